"""The `micrograd` console command. `micrograd demo` trains a small network on a toy data set
and writes pictures of what it learned: its scores over the plane with the decision boundary,
the loss curve, the graph of karpathy's lecture neuron with its gradients, and a web page that
steps through backpropagation. On the handwritten digits it trains a CNN or an MLP and plots
what that learned. `micrograd demo --help` lists its options."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

from . import digits_demo
from .demo import (
    ACTIVATIONS,
    DATASETS,
    DIVERGENCE_FACTOR,
    OPTIMIZERS,
    OUTPUT_NAMES,
    demo,
    parameter_count,
)

SIGPIPE = 13  # the signal's number on Linux and macOS, 128 + it the shell's exit code
DIGITS = 1797  # images in scikit-learn's digits
MAX_TOY_SAMPLES = 1_000_000  # 2 epochs and the plots take 3 s and 200 MB; 10**8 ran out of memory
TOY_DEFAULTS = {"samples": 100, "layers": [16, 16], "optimizer": "sgd", "epochs": 100}

# the demo's networks hold each parameter as a Value, and compile traces every op: 264,000
# parameters (--layers 512,512) took 450 MB and 14 s for 2 epochs; 9 million ran out of memory
MAX_PARAMETERS = 300_000

MAX_SEED = 2**32 - 1  # numpy.random.RandomState, which draws the data, takes 0 to 2**32 - 1


def _layer_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]"""
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes such as 16,16, got {text!r}"
        ) from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _at_least(kind: type, minimum: float):
    """An argparse type: a number of this kind, at least minimum (above 0 when minimum is 0)."""
    what = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            number = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if not (number >= minimum if minimum else number > 0):
            bound = f"at least {minimum}" if minimum else "greater than 0"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text!r}")
        return number

    parse.__name__ = kind.__name__
    return parse


def _seed(text: str) -> int:
    """An argparse type: an integer from 0 to MAX_SEED."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not 0 <= seed <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_SEED} (2**32 - 1), got {text!r}")
    return seed


def _output_folder(text: str) -> Path:
    """An argparse type: a folder that is, or can be made, a folder holding the demo's files.
    Only looks; main creates it and tries a write, which is the only sure test of permission."""
    if not text:  # Path("") is the working folder: files strewn where one stands
        raise argparse.ArgumentTypeError("expected a folder name, got ''")
    folder = Path(text)
    if folder.exists():
        if not folder.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
        return folder
    # an existing file among the missing folder's parents would stop mkdir after training
    for parent in folder.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise argparse.ArgumentTypeError(
                    f"cannot create {text!r}: {str(parent)!r} is a file, not a folder"
                )
            break
    return folder


DEMO_DESCRIPTION = (
    "Train an MLP on a toy data set, print the final loss and accuracy, and write\n"
    "into the output folder (PNG): the network's score (two classes) or class\n"
    "probabilities (three) over the plane, scored on a 300x300 grid through\n"
    "micrograd.compile, with the decision boundary as a line; and the loss (log\n"
    "scale) and accuracy curves. Two-class data sets use the hinge loss, three-class\n"
    "ones cross-entropy, both plus 1e-4 * sum(w**2). It also draws karpathy's\n"
    "lecture neuron o = tanh(x1*w1 + x2*w2 + b) after o.backward(), each grad being\n"
    "d o / d (that node) (SVG), with a page stepping through its backward pass\n"
    "(HTML).\n\n"
    "--dataset digits trains a CNN (--model cnn, the default there) or an MLP on\n"
    "80% of scikit-learn's 1,797 handwritten digits (8x8 pixels) with cross-entropy,\n"
    "prints `test accuracy NN.N%` on the other 20%, and writes PNGs: the confusion\n"
    "matrix, the learned filters, the feature maps of one digit, the misclassified\n"
    "test digits, and the loss and accuracy curves, training and test. It needs\n"
    "scikit-learn. Its defaults: --layers 16,32 (cnn) or 80 (mlp), --optimizer adam,\n"
    "--epochs 30, --batch-size 32, all 1797 --samples.\n\n"
    "Everywhere, the learning rate decays linearly, epoch by epoch, towards a tenth of\n"
    "its start."
)
DEMO_EPILOG = (
    "examples:\n  micrograd demo\n  micrograd demo --dataset spirals --layers 32,32 "
    "--optimizer adam --epochs 200\n  micrograd demo --activation tanh --out pictures\n"
    "  micrograd demo --dataset digits --model cnn\n"
    "  micrograd demo --dataset digits --model mlp --layers 128 --epochs 20"
)


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `micrograd` parser, and its `demo` subparser (errors read `micrograd demo: error:`)."""
    parser = argparse.ArgumentParser(prog="micrograd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_parser = commands.add_parser(
        "demo",
        help="train a small network on a toy data set or on handwritten digits and draw what "
        "it learned",
        description=DEMO_DESCRIPTION,
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_options(demo_parser)
    _add_training_options(demo_parser)
    return parser, demo_parser


def _add_data_options(options: argparse.ArgumentParser) -> None:
    """What the demo learns, and with which network."""
    options.add_argument(
        "--dataset",
        choices=[*sorted(DATASETS), "digits"],
        default="moons",
        help="a toy data set of 2-D points, or digits: 8x8 images of handwritten digits "
        "(default: moons)",
    )
    options.add_argument(
        "--model",
        choices=["mlp", "cnn"],
        default=None,
        help="the network: mlp, or cnn (blocks of a 3x3 convolution, the activation and a 2x2 "
        "max pool, then a dense layer; digits only) (default: mlp, cnn on digits)",
    )
    options.add_argument(
        "--samples",
        type=_at_least(int, 4),
        default=None,
        help=f"number of points in the data set, at most {MAX_TOY_SAMPLES} (default: 100); "
        "for digits, how many of the "
        f"{DIGITS} images to use, from {digits_demo.MIN_SAMPLES}, chosen in proportion to "
        "each digit (default: all)",
    )
    options.add_argument(
        "--layers",
        type=_layer_sizes,
        default=None,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 16,16; 80 on digits); the output "
        "layer is added to fit the data; for --model cnn, the channels of each block, at most "
        f"{digits_demo.MAX_BLOCKS} blocks (8 -> 4 -> 2 -> 1 pixels) (default: 16,32); at most "
        f"{MAX_PARAMETERS:,} parameters in all",
    )
    options.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default="relu",
        help="activation of the hidden layers (default: relu)",
    )


def _add_training_options(options: argparse.ArgumentParser) -> None:
    """How the demo trains, and where it writes."""
    options.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZERS),
        default=None,
        help="optimizer (default: sgd; adam on digits)",
    )
    options.add_argument(
        "--lr",
        type=_at_least(float, 0),
        default=None,
        help="initial learning rate (default: sgd 1.0, momentum 0.1, adam/adamw 0.05, "
        "rmsprop 0.01, adagrad 0.3; on digits sgd 0.1, momentum 0.03, adam/adamw 0.01, "
        "rmsprop 0.003, adagrad 0.03); a run whose last epoch's loss is not finite or more than "
        f"{DIVERGENCE_FACTOR:g} times the smaller of its first epoch's and that of outputs of 0 "
        "everywhere (1 for hinge, ln k for cross-entropy) is reported as diverged, and a toy "
        "run that ends hardly better than always answering the commonest class gets a note "
        "(the exit code stays 0)",
    )
    options.add_argument(
        "--epochs",
        type=_at_least(int, 1),
        default=None,
        help="passes over the data (default: 100; 30 on digits)",
    )
    options.add_argument(
        "--batch-size",
        type=_at_least(int, 1),
        default=None,
        help="points per gradient step (default: the whole data set; 32 on digits)",
    )
    options.add_argument(
        "--seed",
        type=_seed,
        default=1337,
        help=f"seed for the data and the weights, from 0 to {MAX_SEED} (default: 1337)",
    )
    options.add_argument(
        "--out",
        type=_output_folder,
        default="out",  # a string, so that argparse checks it with _output_folder too
        metavar="FOLDER",
        help="folder for the output files (default: out), created if missing; checked before "
        "training: it must be a writable folder, and each output file's name free, a regular "
        "file it may overwrite, or a link to one in a writable folder",
    )
    options.add_argument(
        "--eager",
        action="store_true",
        help="train with the scalar engine, one graph per sample, instead of replaying a "
        "micrograd.compile trace over the batch (slower; the same numbers but for rounding, "
        "which the divisions of adam, adamw, rmsprop and adagrad can magnify where a gradient "
        "should be 0; on digits, minutes per epoch)",
    )
    options.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `micrograd` command; returns the exit code."""
    parser, demo_parser = _parsers()
    args = parser.parse_args(argv)
    if args.command == "demo":
        _resolve_defaults(args, demo_parser)
        names = digits_demo.OUTPUT_NAMES if args.dataset == "digits" else OUTPUT_NAMES
        _prepare_output_folder(args.out, names, demo_parser)
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
        try:
            (digits_demo.digits_demo if args.dataset == "digits" else demo)(args)
            if sys.stdout is not None:  # None when closed (`>&-`): print() writes nothing
                sys.stdout.flush()  # here, where a failure to write is caught, not at exit
        except KeyboardInterrupt:  # Ctrl-C: a line, not a traceback, and the shell's code
            print("micrograd demo: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader went away (`micrograd demo | head -1`): stop,
            _drop_stdout()  # quietly, as a command killed by SIGPIPE does
            return 128 + SIGPIPE
        except OSError as error:  # a full disk, a folder taken away: one line, not a traceback
            print(f"micrograd demo: {error}", file=sys.stderr)
            if not _writable(sys.stdout):  # stdout itself failed (/dev/full)
                _drop_stdout()
            return 1
    return 0


def _writable(stream) -> bool:
    try:
        stream.flush()
    except OSError:
        return False
    return True


def _drop_stdout() -> None:
    """stdout goes nowhere from here: else Python's flush at exit fails on it again."""
    try:
        stdout = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (main() called in a notebook)
        return
    nowhere = os.open(os.devnull, os.O_WRONLY)
    os.dup2(nowhere, stdout)
    os.close(nowhere)


def _resolve_defaults(args: argparse.Namespace, demo_parser: argparse.ArgumentParser) -> None:
    """Fill in the options left out with the chosen data set's defaults, and refuse what that
    data set cannot take, as usage errors (exit 2)."""
    if args.dataset != "digits":
        if args.model == "cnn":
            demo_parser.error(
                f"argument --model: cnn needs images: use --dataset digits, not {args.dataset}"
            )
        args.model = "mlp"
        for name, value in TOY_DEFAULTS.items():
            if getattr(args, name) is None:
                setattr(args, name, value)
        if args.samples > MAX_TOY_SAMPLES:
            demo_parser.error(
                f"argument --samples: a toy data set has at most {MAX_TOY_SAMPLES} points, "
                f"got {args.samples}"
            )
        _check_size(parameter_count(args.dataset, args.layers), demo_parser)
        return
    args.model = args.model or "cnn"
    defaults = digits_demo.DEFAULTS
    args.layers = args.layers or defaults["layers"][args.model]
    args.optimizer = args.optimizer or defaults["optimizer"]
    args.epochs = args.epochs or defaults["epochs"]
    args.batch_size = args.batch_size or defaults["batch_size"]
    args.samples = DIGITS if args.samples is None else args.samples
    if not digits_demo.MIN_SAMPLES <= args.samples <= DIGITS:
        demo_parser.error(
            f"argument --samples: digits has {DIGITS} images; choose from "
            f"{digits_demo.MIN_SAMPLES} to {DIGITS}, got {args.samples}"
        )
    if args.model == "cnn" and len(args.layers) > digits_demo.MAX_BLOCKS:
        demo_parser.error(
            f"argument --layers: a CNN on 8x8 digits has at most {digits_demo.MAX_BLOCKS} "
            f"blocks (each halves the image), got {len(args.layers)}"
        )
    _check_size(digits_demo.parameter_count(args.model, args.layers), demo_parser)
    try:
        import sklearn  # noqa: F401  (the digits come with it)
    except ImportError:
        demo_parser.error(
            "--dataset digits needs scikit-learn, which ships the digits: "
            "pip install scikit-learn (or pip install 'micrograd[demo]')"
        )


def _check_size(parameters: int, demo_parser: argparse.ArgumentParser) -> None:
    if parameters > MAX_PARAMETERS:
        demo_parser.error(
            f"argument --layers: the network would have {parameters:,} parameters; the demo "
            f"trains at most {MAX_PARAMETERS:,} (each is a Python object): choose smaller layers"
        )


def _prepare_output_folder(
    folder: Path, names: list[str], demo_parser: argparse.ArgumentParser
) -> None:
    """Create the folder and write a file into it, and into the folder of any output file that
    is a symlink elsewhere, so that a place the demo cannot write stops it before training
    rather than after; permission bits alone cannot tell (root ignores them). An output name
    taken by what is not a regular file (a folder, a FIFO, a link to /dev/null) or by a file
    that says it cannot be overwritten stops it too."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        demo_parser.error(f"argument --out: cannot create {str(folder)!r}: {error.strerror}")
    own = os.path.realpath(folder)
    folders = {own}
    for name in names:
        path = folder / name
        real = os.path.realpath(path)
        if os.path.isdir(real):
            demo_parser.error(
                f"argument --out: {str(path)!r} is a folder, but the demo writes a file of that "
                "name there: move it, or choose another folder"
            )
        if os.path.exists(real) and not os.path.isfile(real):
            demo_parser.error(
                f"argument --out: {str(path)!r} is not a regular file (it is, or leads to, a "
                "pipe or a device), but the demo writes a file of that name there"
            )
        if os.path.exists(real) and not os.access(real, os.W_OK):
            demo_parser.error(f"argument --out: {str(path)!r} cannot be overwritten")
        folders.add(os.path.dirname(real))
    for place in sorted(folders):
        try:
            with tempfile.TemporaryFile(dir=place):
                pass
        except OSError as error:
            shown = str(folder) if place == own else place
            demo_parser.error(f"argument --out: cannot write into {shown!r}: {error.strerror}")


if __name__ == "__main__":
    sys.exit(main())

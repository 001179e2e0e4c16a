# ruff: noqa: B018, E402
# %% [markdown]
# # 8. Convolutions on handwritten digits
#
# So far every network read a short list of numbers: the two coordinates of a point. Now the
# input is a picture: an 8×8 grid of grey levels showing a handwritten digit, and the network
# must say which of the ten digits 0-9 it is.
#
# An MLP could read the 64 pixels as one long list, and it does fairly well. But it learns each
# of its weights for one pixel, so a stroke it has learned to see in one place means nothing to
# it one pixel further on. A **convolutional network** (CNN) does better with fewer weights:
#
# 1. a **convolution** slides a small filter (here 3×3 weights) over the whole image and
#    computes the same weighted sum at every position, so one filter finds its edge or curve
#    wherever it is;
# 2. **pooling** shrinks each map, keeping the largest value (or the mean) of each 2×2 window;
# 3. a **dense layer** at the end reads what the filters found and gives ten scores, one per
#    digit, which softmax turns into probabilities.
#
# Everything is still built from scalar `Value`s, so every gradient below can be followed
# number by number. First a convolution small enough to do by hand.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np
import torch
from micrograd.nn import digits_demo

import micrograd
from micrograd import Value, nn

torch.set_default_dtype(torch.float64)


def agree(ours, theirs, tol=1e-12):
    """Whether two arrays agree to tol, relative to the larger of each pair (and at least 1)."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    scale = np.maximum(1.0, np.maximum(np.abs(ours), np.abs(theirs)))
    return bool(np.all(np.abs(ours - theirs) <= tol * scale))


def numbers(nested):
    """Nested lists of Values (or of numbers) as a numpy array of their numbers."""
    if isinstance(nested, list):
        return np.array([numbers(item) for item in nested])
    return getattr(nested, "data", nested)


def grads(rows):
    """The .grad of every Value in a list of rows."""
    return [[v.grad for v in row] for row in rows]


# %% [markdown]
# ## A convolution by hand
#
# Take a 4×4 image and a 2×2 filter `w` with a bias `b`. The output at row `y`, column `x` is
# the filter laid over the image with its top-left corner there:
#
# $$\text{out}[y][x] = b + \sum_{i=0}^{1}\sum_{j=0}^{1} w[i][j] \cdot \text{image}[y+i][x+j]$$
#
# The filter fits in 3 positions across and 3 down, so the output is 3×3. Written with Values:

# %%
image = [[Value(v) for v in row] for row in
         [[0.0, 1.0, 1.0, 0.0],
          [0.0, 1.0, 0.5, 0.0],
          [0.0, 1.0, 0.0, 0.0],
          [0.2, 1.0, 0.0, 0.0]]]  # fmt: skip
w = [[Value(1.0, label="w00"), Value(-1.0, label="w01")],
     [Value(0.5, label="w10"), Value(-0.5, label="w11")]]  # fmt: skip
b = Value(0.1, label="b")


def convolve(image, w, b):
    size, k = len(image), len(w)
    return [
        [b + sum(w[i][j] * image[y + i][x + j] for i in range(k) for j in range(k))
         for x in range(size - k + 1)]
        for y in range(size - k + 1)
    ]  # fmt: skip


out = convolve(image, w, b)
print(numbers(out))

# %% [markdown]
# This filter weighs a pixel against its right-hand neighbour, so it answers strongly where the
# image goes from bright to dark left to right: on the right-hand edge of the vertical stroke
# (column 1), and negatively on its left-hand edge. It is an **edge detector**.
#
# A loss needs one number: sum the outputs, each times a weight of its own, and backpropagate.

# %%
upstream = [[1.0, -2.0, 0.5], [0.0, 1.5, -1.0], [2.0, 0.5, 1.0]]
loss = sum(out[y][x] * upstream[y][x] for y in range(3) for x in range(3))
loss.backward()
print("dloss/dw =", grads(w))
print("dloss/db =", b.grad)

# %% [markdown]
# PyTorch computes the same thing with `torch.nn.functional.conv2d` on tensors of shape
# (batch, channels, height, width). Its gradients must be ours, for the filter, the bias and
# every pixel of the image:

# %%
t_image = torch.tensor(numbers(image)[None, None], requires_grad=True)
t_w = torch.tensor(numbers(w)[None, None], requires_grad=True)
t_b = torch.tensor([b.data], requires_grad=True)
t_out = torch.nn.functional.conv2d(t_image, t_w, t_b)
(t_out[0, 0] * torch.tensor(upstream)).sum().backward()

print("outputs agree to 1e-12:     ", agree(numbers(out), t_out[0, 0].detach()))
print("dloss/dw agree to 1e-12:    ", agree(grads(w), t_w.grad[0, 0]))
print("dloss/db agree to 1e-12:    ", agree(b.grad, t_b.grad[0]))
print("dloss/dimage agree to 1e-12:", agree(grads(image), t_image.grad[0, 0]))

# %% [markdown]
# ## Why a CNN shares its weights
#
# Look at the gradient of one weight, `w01`, the top-right one of the filter. It took part in
# all 9 output positions, so the chain rule adds up 9 contributions: at each position, the
# pixel it multiplied there (one to the right of the filter's corner) times how much the loss
# cares about that output.
#
# $$\frac{\partial\,\text{loss}}{\partial w_{01}} = \sum_{y,x} \text{image}[y][x+1] \cdot
# \frac{\partial\,\text{loss}}{\partial\,\text{out}[y][x]}$$

# %%
by_hand = sum(image[y][x + 1].data * upstream[y][x] for y in range(3) for x in range(3))
print(f"sum over the 9 positions: {by_hand:.4f}   w01.grad: {w[0][1].grad:.4f}")

# %% [markdown]
# That sum is the whole point. Every position trains the same four weights, so what the filter
# learns from a stroke in one corner it uses in every other: it finds its edge wherever the edge
# is. Move the image one pixel to the right, and the feature map moves with it (the
# convolution is *translation-equivariant*):

# %%
shifted = [[Value(0.0)] + row[:-1] for row in image]  # every pixel one step right
print("map of the image, columns 0-1:        \n", numbers(out)[:, :2])
print("map of the shifted image, columns 1-2:\n", numbers(convolve(shifted, w, b))[:, 1:])

# %% [markdown]
# Sharing also saves weights. On the 8×8 digits, 16 filters of 3×3 that keep the image's size
# (one pixel of zeros around it, `padding=1`) have 16 × (9 + 1) = 160 parameters. A dense layer
# with the same 16 × 64 outputs would learn a weight from every pixel to every output:

# %%
conv = nn.Conv2d(1, 16, kernel_size=3, padding=1)
dense = nn.Layer(64, 16 * 64)
print(f"Conv2d(1, 16, 3, padding=1): {conv.num_parameters():>6} parameters")
print(f"Layer(64 -> 16 * 64):        {dense.num_parameters():>6} parameters")

# %% [markdown]
# ## Pooling
#
# A pooling layer shrinks each map: `MaxPool2d(2)` keeps the largest of each 2×2 window,
# `AvgPool2d(2)` their mean. A 4×4 map becomes 2×2. Pooling has no weights, but it does have a
# gradient, and the two kinds route it differently:
#
# * the max passes each window's gradient to its **largest** input only: the others did not
#   affect the output (on a tie, to the first of the largest, as PyTorch does);
# * the mean hands each of the four inputs **a quarter** of it.

# %%
feature_map = [[Value(v) for v in row] for row in
               [[1.0, 3.0, 0.0, 2.0],
                [2.0, 0.5, 2.0, 2.0],
                [0.0, 0.0, 4.0, 1.0],
                [1.0, 1.0, 3.0, 5.0]]]  # fmt: skip
for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
    for row in feature_map:
        for v in row:
            v.grad = 0.0
    pooled = pool([feature_map])[0]  # one channel in, one out
    sum(sum(row) for row in pooled).backward()
    print(f"{type(pool).__name__}(2): output {numbers(pooled).tolist()}")
    print("  gradient of each input:\n", numbers(grads(feature_map)))

# %% [markdown]
# In the top-right window of the max pool, three inputs tie at 2: the gradient goes to the
# first of them in reading order, as `torch.nn.MaxPool2d` does. Here is PyTorch's answer:

# %%
t_map = torch.tensor(numbers(feature_map)[None, None], requires_grad=True)
torch.nn.functional.max_pool2d(t_map, 2).sum().backward()
print(t_map.grad[0, 0].numpy())

# %% [markdown]
# ## The digits
#
# `nn.data.load_digits()` returns the 1,797 handwritten digits that scikit-learn ships: 8×8
# images with 17 grey levels, written by 13 people (UCI's test set; 43 people wrote the whole
# collection). They come as `[1][8][8]`: one channel (grey)
# of 8 rows of 8 pixels, scaled to [0, 1]. We hold out a fifth of them, the same share of each
# digit, to test on digits the network has never seen.

# %%
X, y = nn.data.load_digits()
X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=0.2, seed=1337)
print("images:", X.shape, " training:", len(X_train), " test:", len(X_test))
print("test digits of each kind:", np.bincount(y_test).tolist())

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
for ax, image_, label in zip(axes.flat, X_train, y_train):
    ax.imshow(image_[0], cmap="gray_r")
    ax.set_title(str(label), fontsize=9)
    ax.set_axis_off()
fig.suptitle("the first 20 training digits, with their labels")
plt.show()

# %% [markdown]
# ## A CNN for the digits
#
# Two blocks of convolution, ReLU and max pooling take the 1×8×8 image to 16 maps of 4×4, then
# to 32 maps of 2×2. `Flatten` lays those 128 numbers out in a list, and a dense layer turns them
# into ten scores. Each module has the name and the arguments of its `torch.nn` counterpart,
# but `Layer`: torch's `Linear`, with an `activation` argument.

# %%
rng = random.Random(1337)
cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Layer(32 * 2 * 2, 10, activation="linear", rng=rng),
)  # fmt: skip
cnn

# %% [markdown]
# How big is the graph of one image's loss? One node per multiply and per add of every filter
# at every position, and then some:

# %%
one_loss = nn.cross_entropy([cnn(X_train[0])], [int(y_train[0])])
print(f"{len(micrograd.topological_order(one_loss)):,} nodes for one image")

# %% [markdown]
# The eager engine builds, walks and drops about 400,000 of these nodes a second on the
# machine these notebooks are built on. Training eagerly would take about half a second per
# image, and so over ten minutes for one pass over the 1,437 training images.
#
# `fit(..., compile=True)` traces the loss of one sample once (notebook 7), and
# `micrograd.compile` recognises each convolution in the trace: the same weights times inputs
# that move with the position. It runs each one as a single matrix product over all positions
# and all the samples of a batch. The numbers are the scalar engine's.
#
# We train with mini-batches of 32, Adam, softmax cross-entropy, and a learning rate falling
# linearly to a tenth; `validation_data` scores the held-out digits after every epoch.


# %%
def train(model, X_train, X_test, epochs=30):
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    schedule = nn.optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=epochs)
    return nn.fit(model, X_train, y_train, loss="cross_entropy", optimizer=optimizer,
                  epochs=epochs, batch_size=32, scheduler=schedule, seed=1337, compile=True,
                  validation_data=(X_test, y_test), progress=False)  # fmt: skip


history = train(cnn, X_train, X_test)
print(f"CNN: test accuracy {history['val_accuracy'][-1]:.1%} after 30 epochs")
digits_demo.plot_curves(history)
plt.show()

# %% [markdown]
# The training loss keeps falling long after the test loss has levelled off: the network ends
# up classifying every training digit right, and the gap is what it learned about those digits
# in particular. The test accuracy is the honest number.
#
# Which digits does it confuse? The confusion matrix counts, for each true digit (row), what
# the network said (column), and the digits it got wrong are below it.

# %%
scores = micrograd.compile(lambda x: cnn(x)).forward(X_test)
predicted = np.argmax(scores, axis=1)
digits_demo.plot_confusion(y_test, predicted)
plt.show()
digits_demo.plot_misclassified(X_test, y_test, predicted)
plt.show()

# %% [markdown]
# ## What the filters learned
#
# The 16 filters of the first convolution, each a 3×3 patch of weights, positive in red and
# negative in blue. Many have a positive side and a negative side: edge detectors for one
# direction each, as the one we built by hand.

# %%
digits_demo.plot_filters(cnn)
plt.show()

# %% [markdown]
# And what they make of one test digit: each map is one filter's output at every position,
# after ReLU. Pooling halves each map; the second convolution combines all 16 maps into 32 new
# ones that respond to larger shapes; the last 2×2 maps are what the dense layer reads.

# %%
digits_demo.plot_feature_maps(cnn, X_test[0], int(y_test[0]))
plt.show()

# %% [markdown]
# ## Against an MLP of the same size
#
# Is the convolution worth it? An MLP with one hidden layer of 80 ReLU neurons has about as
# many parameters, 6,010 against the CNN's 6,090. It reads the same images as flat rows of 64
# pixels, and trains in the same way:

# %%
mlp = nn.MLP(64, [80, 10], rng=random.Random(1337))
flat_train, flat_test = X_train.reshape(-1, 64), X_test.reshape(-1, 64)
mlp_history = train(mlp, flat_train, flat_test)
print(f"{'':4} {'parameters':>10} {'test accuracy':>14} {'test loss':>10}")
for name, model, h in (("CNN", cnn, history), ("MLP", mlp, mlp_history)):
    print(f"{name:4} {model.num_parameters():>10} {h['val_accuracy'][-1]:>14.1%} "
          f"{h['val_loss'][-1]:>10.3f}")  # fmt: skip

# %% [markdown]
# With the same budget of weights the CNN makes fewer mistakes: its filters are shared by all
# 64 positions, so it learns shapes once and finds them anywhere, where the MLP must learn each
# pixel's role separately.
#
# Finally, the trained CNN in PyTorch: `to_torch` copies it into a `torch.nn.Sequential` of
# `Conv2d`, `ReLU`, `MaxPool2d`, `Flatten` and `Linear`, which scores the test digits the same.

# %%
twin = nn.to_torch(cnn)
print(twin)
with torch.no_grad():
    torch_scores = twin(torch.tensor(X_test)).numpy()
print("scores agree to 1e-12:", agree(scores, torch_scores))
print("same predictions:     ", bool(np.all(np.argmax(torch_scores, axis=1) == predicted)))

# %% [markdown]
# `micrograd demo --dataset digits` runs this training from the command line and writes these
# pictures as PNGs; `--model mlp` trains the MLP instead.

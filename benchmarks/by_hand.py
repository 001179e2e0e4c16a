"""Training written by hand in numpy: the forward pass, the backward pass and the optimizer
step of a dense network or a CNN, layer by layer, as one would write them without any
autograd. The benchmark's floor for what numpy itself costs on the same work.

The network is read off a ``torch.nn.Sequential`` (``to_torch`` of a micrograd model) made of
Linear, Conv2d (square kernel, stride 1), ReLU, MaxPool2d(2) and Flatten, so it starts from
the same weights as the other variants.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Linear:
    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        self.params = [weight, bias]

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        weight, bias = self.params
        return x @ weight.T + bias

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        weight, _ = self.params
        return grad @ weight, [grad.T @ self.x, grad.sum(axis=0)]


class Conv2d:
    """Stride 1, zero padding: im2col, one matrix product, and col2im in backward."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray, padding: int):
        self.params, self.padding = [weight, bias], padding

    def forward(self, x: np.ndarray) -> np.ndarray:
        weight, bias = self.params
        out_channels, channels, k, _ = weight.shape
        p = self.padding
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # n, c, h, w, k, k
        n, _, h, w = windows.shape[:4]
        self.shape = padded.shape
        self.columns = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, channels * k * k)
        out = self.columns @ weight.reshape(out_channels, -1).T + bias
        return out.reshape(n, h, w, out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        weight, _ = self.params
        out_channels, channels, k, _ = weight.shape
        n, _, h, w = grad.shape
        rows = grad.transpose(0, 2, 3, 1).reshape(n * h * w, out_channels)
        weight_grad = (rows.T @ self.columns).reshape(weight.shape)
        columns = (rows @ weight.reshape(out_channels, -1)).reshape(n, h, w, channels, k, k)
        padded = np.zeros(self.shape)
        for i in range(k):  # col2im: each tap adds its share back where it read
            for j in range(k):
                padded[:, :, i : i + h, j : j + w] += columns[..., i, j].transpose(0, 3, 1, 2)
        p = self.padding
        inner = padded[:, :, p : padded.shape[2] - p, p : padded.shape[3] - p]
        return inner, [weight_grad, rows.sum(axis=0)]


class ReLU:
    params: list = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x > 0
        return np.where(self.mask, x, 0.0)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, list]:
        return np.where(self.mask, grad, 0.0), []


class MaxPool2d:
    """2x2 windows, stride 2; the gradient to the first largest of each window, as PyTorch."""

    params: list = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        windows = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
        windows = windows.reshape(n, c, h // 2, w // 2, 4)
        self.choice, self.shape = windows.argmax(axis=-1), x.shape
        return np.take_along_axis(windows, self.choice[..., None], axis=-1)[..., 0]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, list]:
        n, c, h, w = self.shape
        windows = np.zeros((n, c, h // 2, w // 2, 4))
        np.put_along_axis(windows, self.choice[..., None], grad[..., None], axis=-1)
        windows = windows.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
        return windows.reshape(self.shape), []


class Flatten:
    params: list = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, list]:
        return grad.reshape(self.shape), []


def layers_of(torch_model) -> list:
    """The numpy layers of a torch.nn.Sequential, with copies of its weights."""
    import torch

    layers = []
    for module in torch_model:
        if isinstance(module, torch.nn.Linear):
            layers.append(Linear(*(p.detach().numpy().copy() for p in module.parameters())))
        elif isinstance(module, torch.nn.Conv2d):
            assert module.stride == (1, 1) and module.kernel_size[0] == module.kernel_size[1]
            weight, bias = (p.detach().numpy().copy() for p in module.parameters())
            layers.append(Conv2d(weight, bias, module.padding[0]))
        elif isinstance(module, torch.nn.ReLU):
            layers.append(ReLU())
        elif isinstance(module, torch.nn.MaxPool2d):
            assert module.kernel_size in (2, (2, 2)) and module.stride in (2, (2, 2))
            layers.append(MaxPool2d())
        elif isinstance(module, torch.nn.Flatten):
            layers.append(Flatten())
        else:
            raise TypeError(f"by_hand: no numpy layer for {module}")
    return layers


def loss_and_grad(name: str, scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean loss over the batch and its gradient with respect to the scores."""
    n = len(scores)
    if name == "hinge":  # mean(relu(1 - y * score)), one score per row
        margins = 1.0 - y * scores[:, 0]
        grad = np.where(margins > 0, -y / n, 0.0)[:, None]
        return float(np.maximum(margins, 0.0).mean()), grad
    shifted = scores - scores.max(axis=1, keepdims=True)  # softmax cross-entropy
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    grad = np.exp(log_p)
    grad[np.arange(n), y] -= 1.0
    return float(-log_p[np.arange(n), y].mean()), grad / n


class Trainer:
    """Forward, backward and an SGD or Adam step (torch.optim's formulas) over the layers."""

    def __init__(self, layers: list, optimizer: str, lr: float):
        self.layers, self.optimizer, self.lr = layers, optimizer, lr
        self.params = [p for layer in layers for p in layer.params]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, X: np.ndarray, y: np.ndarray, loss: str) -> float:
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        value, grad = loss_and_grad(loss, out, y)
        grads = []
        for layer in reversed(self.layers):
            grad, param_grads = layer.backward(grad)
            grads[:0] = param_grads
        self._update(grads)
        return value

    def _update(self, grads: list[np.ndarray]) -> None:
        if self.optimizer == "sgd":
            for p, g in zip(self.params, grads):
                p -= self.lr * g
            return
        self.t += 1
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        step = self.lr / (1 - beta1**self.t)
        root = np.sqrt(1 - beta2**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * g * g
            p -= step * m / (np.sqrt(v) / root + eps)

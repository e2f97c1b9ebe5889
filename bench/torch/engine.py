# PyTorch (CPU) on the benchmark's workloads, with the weights and inputs bench/run.ts wrote.
# Run by bench/engines/torch.mjs: python3 engine.py <spec.json> [threads]; prints one
# "@@RESULT {json}" line in the format of bench/engines/common.mjs (check values or median seconds).
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

SPEC = json.load(open(sys.argv[1], encoding="utf8"))
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(THREADS)
torch.set_num_interop_threads(1)
HEADS = 4  # the Transformer block's heads (bench/models/transformer.ts)


def load(key):
    """A shared tensor by key: raw little-endian float32 or int32, as bench/run.ts writes it."""
    t = SPEC["tensors"][key]
    with open(os.path.join(SPEC["dir"], key + ".bin"), "rb") as f:
        raw = bytearray(f.read())
    dtype = torch.int32 if t["dtype"] == "int32" else torch.float32
    return torch.frombuffer(raw, dtype=dtype).reshape(t["shape"]).clone()


def sample(t):
    """At most 256 evenly strided values of an output, as common.mjs's sample() picks them."""
    flat = t.detach().reshape(-1).tolist()
    if len(flat) <= 640:
        return flat
    stride = len(flat) // 256
    return [flat[i * stride] for i in range(256)]


def timed(fn):
    """Median seconds per call, as common.mjs's time(): warm-up, then samples of k calls each."""
    quick = SPEC.get("quick", False)
    budget, min_samples = (0.4, 3) if quick else (1.2, 5)
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    if one < 0.5:
        t0 = time.perf_counter()
        fn()
        one = time.perf_counter() - t0
    k = max(1, math.ceil(0.005 / max(one, 1e-7)))
    samples = []
    start = time.perf_counter()
    while len(samples) < min_samples or (time.perf_counter() - start < budget and len(samples) < 200):
        s = time.perf_counter()
        for _ in range(k):
            fn()
        took = time.perf_counter() - s
        samples.append(took / k)
        # k doubles while a sample takes under 2.5 ms, so that a fast workload fills the budget.
        if took < 0.0025:
            k *= 2
    samples.sort()
    return {"median": samples[len(samples) // 2], "samples": len(samples), "callsPerSample": k}


def params(model):
    """The model's weights in Kiln's weight-file order (bench/run.ts's paramKeys)."""
    return [load(k) for k in SPEC["paramKeys"][model]]


# ---- models: Kiln's layouts (dense kernels [in, out], conv OIHW, flatten NCHW) -----------------
def mlp_logits(p, x):
    w1, b1, w2, b2 = p
    return torch.addmm(b2, torch.relu(torch.addmm(b1, x, w1)), w2)


def cnn_logits(p, x):
    wc, bc, w1, b1, w2, b2 = p
    h = F.max_pool2d(torch.relu(F.conv2d(x.permute(0, 3, 1, 2), wc, bc)), 2)
    h = torch.relu(torch.addmm(b1, h.reshape(h.shape[0], -1), w1))
    return torch.addmm(b2, h, w2)


class Lstm(torch.nn.Module):
    """nn.LSTM (gate order i, f, g, o: Keras's i, f, c, o) on the last state → dense head."""

    def __init__(self, p):
        super().__init__()
        kernel, recurrent, bias, head_w, head_b = p
        units = recurrent.shape[0]
        self.lstm = torch.nn.LSTM(kernel.shape[0], units, batch_first=True)
        with torch.no_grad():
            self.lstm.weight_ih_l0.copy_(kernel.t())
            self.lstm.weight_hh_l0.copy_(recurrent.t())
            self.lstm.bias_ih_l0.copy_(bias)
            self.lstm.bias_hh_l0.zero_()
        # Kiln has one bias per gate: the second one stays zero and out of the optimizer.
        self.lstm.bias_hh_l0.requires_grad_(False)
        self.head = torch.nn.Linear(units, head_w.shape[1])
        with torch.no_grad():
            self.head.weight.copy_(head_w.t())
            self.head.bias.copy_(head_b)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.head(h[-1])


def encoder_block(p, heads):
    """PyTorch's own post-norm TransformerEncoderLayer (ReLU, no dropout) with Kiln's weights:
    q, k, v, o (kernel, bias), norm 1 (γ, β), feed-forward 1 and 2 (kernel, bias), norm 2."""
    wq, bq, wk, bk, wv, bv, wo, bo, g1, n1, w1, c1, w2, c2, g2, n2 = p
    width = wq.shape[0]
    layer = torch.nn.TransformerEncoderLayer(width, heads, w1.shape[1], dropout=0.0, batch_first=True)
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([wq.t(), wk.t(), wv.t()]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([bq, bk, bv]))
        layer.self_attn.out_proj.weight.copy_(wo.t())
        layer.self_attn.out_proj.bias.copy_(bo)
        for lin, w, b in ((layer.linear1, w1, c1), (layer.linear2, w2, c2)):
            lin.weight.copy_(w.t())
            lin.bias.copy_(b)
        for norm, g, b in ((layer.norm1, g1, n1), (layer.norm2, g2, n2)):
            norm.weight.copy_(g)
            norm.bias.copy_(b)
    return layer


def workload(w):
    """{check, run} for workload w, or a string saying why PyTorch does not run it here."""
    if w["kind"] == "matmul":
        a, b = load(f"mmA{w['n']}"), load(f"mmB{w['n']}")

        def product():
            with torch.inference_mode():
                return torch.mm(a, b)
        return {"check": lambda: sample(product()), "run": lambda: product()[0, 0].item()}
    name, batch = w["model"], w["batch"]
    if name in ("lstm", "transformer"):
        x = load(f"{name}.x")[:batch]
        p = params(name)
        net = Lstm(p) if name == "lstm" else encoder_block(p, HEADS)
        forward = net
        outputs = (lambda o: o)
    elif name in ("mlp", "cnn"):
        x_all = load("x")
        x = x_all[:batch] if name == "mlp" else x_all[:batch].reshape(batch, 28, 28, 1)
        p = [t.requires_grad_(True) for t in params(name)]
        logits = mlp_logits if name == "mlp" else cnn_logits
        forward = (lambda inp: logits(p, inp))
        outputs = (lambda o: torch.softmax(o, dim=-1))  # Kiln's MLP and CNN end in softmax
        net = None
    else:
        return f"no PyTorch version of model {name}"
    if w["kind"] == "infer":
        if net is not None:
            net.eval()

        def infer():
            with torch.inference_mode():
                return outputs(forward(x))
        return {"check": lambda: sample(infer()), "run": lambda: infer().reshape(-1)[0].item()}
    if net is not None:
        net.train()
    variables = [t for t in (net.parameters() if net is not None else p) if t.requires_grad]
    opt = torch.optim.Adam(variables, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    y = load(f"{name}.y" if name in ("lstm", "transformer") else "y")[:batch]
    if name == "transformer":
        loss_of = (lambda o: F.mse_loss(o, y))
    else:
        target = y.long()
        loss_of = (lambda o: F.cross_entropy(o, target))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_of(forward(x))
        loss.backward()
        opt.step()
        return loss.item()
    return {"check": lambda: [step(), step(), step()], "run": step}


def blas():
    """The BLAS that torch.mm loaded (Debian's python3-torch links the generic libblas.so.3,
    the slow reference BLAS unless OpenBLAS provides it), read from this process's mappings."""
    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
    try:
        libs = [line.split()[-1] for line in open("/proc/self/maps", encoding="utf8") if "blas" in line]
    except OSError:
        return "BLAS unknown"
    for lib in libs:
        name = os.path.basename(lib)
        if "openblas" in name:
            version = name.split("-r")[-1].removesuffix(".so") if "-r" in name else ""
            return f"OpenBLAS {version}".strip()
    return "reference BLAS" if any("/blas/libblas" in lib for lib in libs) else (os.path.basename(libs[0]) if libs else "BLAS built in")


def main():
    label = "torch" if THREADS == 1 else f"torch-{THREADS}t"
    out = {"engine": {"name": label, "version": f"{torch.__version__} ({blas()})"}, "results": {}}
    for w in SPEC["workloads"]:
        try:
            impl = workload(w)
            if isinstance(impl, str):
                out["results"][w["id"]] = {"unsupported": impl}
            elif SPEC["mode"] == "check":
                out["results"][w["id"]] = {"check": [float(v) for v in impl["check"]()]}
            else:
                out["results"][w["id"]] = timed(impl["run"])
        except Exception as e:  # one workload's failure is reported in its cell, not the run's
            out["results"][w["id"]] = {"error": str(e).split("\n")[0][:200]}
    sys.stdout.write("\n@@RESULT " + json.dumps(out) + "\n")
    sys.stdout.flush()


main()

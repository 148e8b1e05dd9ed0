#!/usr/bin/env python3
"""Regenerates tests/fixtures/quant/*.bin: reference data for the quantized formats.

The reference is the `gguf` Python package (gguf.quants), whose dequantizers and legacy
quantizers are bit-identical to ggml's C code. For every type the C++ side implements:

  dequant_<TYPE>.bin   seeded random raw blocks (fp16 scale fields forced finite and sane, plus
                       rows of edge scales: max-magnitude, subnormal, +-0) and the float32
                       output of gguf.quants.dequantize.
  quantize_<TYPE>.bin  seeded float32 rows (random with varied block scales, plus edge rows:
                       zeros, -0.0, constant blocks, ties, spikes, huge and tiny values) and the
                       bytes of gguf.quants.quantize (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0),
                       with ggml's d = -0 for all-zero Q4_0/Q5_0 blocks (ggml_zero_block_fixup).

Q8_K has no gguf.quants class; its expected output is computed here as ggml's
dequantize_row_q8_K does (float32 d times int8 q).

gguf.quants has no K-quant quantizers. With --ggml-lib PATH (a libggml-base.so built from
ggml / llama.cpp sources) the script also writes quantize_<Q2_K..Q6_K>.bin from ggml's own
quantize_row_q*_K_ref through ctypes, and cross-checks ggml against every gguf-made fixture
(dequantization, legacy quantizers, fp16 rounding). Without it those files are left as they are.

  cmake -S ggml -B /tmp/ggml-build -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=OFF
  cmake --build /tmp/ggml-build --target ggml-base
  python3 tools/make_quant_fixtures.py --ggml-lib /tmp/ggml-build/src/libggml-base.so

File layout (little-endian):
  char magic[4] = "MQFX"; u32 version = 1; u32 kind (0 dequant: input raw bytes, output f32;
  1 quantize: input f32, output raw bytes); u32 ggml type id; u32 n_rows; u32 n_per_row;
  u64 input_bytes; u64 output_bytes; input bytes; output bytes.

Usage: python3 tools/make_quant_fixtures.py [--ggml-lib PATH] [out_dir]
       (default out_dir: tests/fixtures/quant)
"""

from __future__ import annotations

import argparse
import ctypes
import struct
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

SEED = 20261124
N_ROWS = 8
N_PER_ROW = 512

# Byte offsets of the fp16 scale fields inside each block (core/quant/blocks.h).
HALF_FIELDS: dict[T, list[int]] = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
DEQUANT_TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
                 T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K]
QUANTIZE_TYPES = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
K_QUANTIZE_TYPES = [T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]


def write_fixture(path: Path, kind: int, qtype: T, n_rows: int, n: int,
                  inp: bytes, out: bytes) -> None:
    header = b"MQFX" + struct.pack("<5I2Q", 1, kind, int(qtype), n_rows, n, len(inp), len(out))
    path.write_bytes(header + inp + out)


def sane_halves(rng: np.random.Generator, count: int) -> np.ndarray:
    """Finite fp16 scales of realistic size: +-2^[-14, 3) with random mantissa."""
    mag = np.exp2(rng.uniform(-14, 3, count)).astype(np.float32)
    sign = np.where(rng.random(count) < 0.5, -1.0, 1.0).astype(np.float32)
    return (mag * sign).astype(np.float16).view(np.uint16)


def edge_halves(rng: np.random.Generator, count: int, row: int) -> np.ndarray:
    """Row 6: max-magnitude scales (+-65504 and near it); row 7: subnormals, +0 and -0."""
    if row == 6:
        choices = np.array([0x7BFF, 0xFBFF, 0x7BFE, 0x7800, 0xF800], dtype=np.uint16)
    else:
        sub = rng.integers(1, 0x400, count, dtype=np.uint16)
        sign = (rng.random(count) < 0.5).astype(np.uint16) << 15
        choices = np.concatenate([sub | sign, np.array([0x0000, 0x8000, 0x0001, 0x83FF],
                                                       dtype=np.uint16)])
    return rng.choice(choices, count)


def random_blocks(rng: np.random.Generator, qtype: T) -> np.ndarray:
    block, size = GGML_QUANT_SIZES[qtype]
    nb = N_PER_ROW // block
    raw = rng.integers(0, 256, (N_ROWS, nb, size), dtype=np.uint8)
    if qtype == T.Q8_K:
        d = (rng.standard_normal((N_ROWS, nb)) * 1e-2).astype(np.float32)
        raw[:, :, 0:4] = d.view(np.uint8).reshape(N_ROWS, nb, 4)
        return raw
    for row in range(N_ROWS):
        for off in HALF_FIELDS[qtype]:
            h = sane_halves(rng, nb) if row < 6 else edge_halves(rng, nb, row)
            raw[row, :, off:off + 2] = h.view(np.uint8).reshape(nb, 2)
    return raw


def dequant_case(rng: np.random.Generator, qtype: T) -> tuple[bytes, bytes]:
    if qtype == T.F32:
        x = rng.standard_normal((N_ROWS, N_PER_ROW)).astype(np.float32)
        x[0, :4] = [0.0, -0.0, np.inf, -np.inf]
        return x.tobytes(), x.tobytes()
    if qtype == T.F16:
        # every bit pattern except NaN (numpy and ggml may disagree on NaN payloads)
        h = rng.integers(0, 1 << 16, (N_ROWS, N_PER_ROW), dtype=np.uint32).astype(np.uint16)
        nan = ((h & 0x7C00) == 0x7C00) & ((h & 0x03FF) != 0)
        h[nan] &= 0xFC00  # -> +-inf
        h[0, :8] = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x7BFF, 0xFBFF]
        return h.tobytes(), quants.dequantize(h.view(np.uint8), qtype).tobytes()
    if qtype == T.BF16:
        h = rng.integers(0, 1 << 16, (N_ROWS, N_PER_ROW), dtype=np.uint32).astype(np.uint16)
        h[0, :6] = [0x0000, 0x8000, 0x0001, 0x7F80, 0xFF80, 0x7FC1]
        return h.tobytes(), quants.dequantize(h.view(np.uint8), qtype).tobytes()
    raw = random_blocks(rng, qtype).reshape(N_ROWS, -1)
    if qtype == T.Q8_K:
        blocks = raw.reshape(-1, GGML_QUANT_SIZES[qtype][1])
        d = blocks[:, 0:4].copy().view(np.float32)
        q = blocks[:, 4:4 + 256].view(np.int8).astype(np.float32)
        return raw.tobytes(), (d * q).astype(np.float32).tobytes()
    return raw.tobytes(), quants.dequantize(raw, qtype).astype(np.float32).tobytes()


def quantize_input(rng: np.random.Generator, qtype: T) -> np.ndarray:
    x = np.empty((N_ROWS, N_PER_ROW), dtype=np.float32)
    nb = N_PER_ROW // 32
    # rows 0-3: Gaussian weights, each 32-block with its own scale 10^[-3, 1)
    for r in range(4):
        scale = np.repeat(10.0 ** rng.uniform(-3, 1, nb), 32)
        x[r] = (rng.standard_normal(N_PER_ROW) * scale).astype(np.float32)
    # row 4: edge blocks
    e = np.zeros((nb, 32), dtype=np.float32)
    e[1] = -0.0
    e[2] = 0.75                                       # constant block
    e[3, 5] = -3.0                                    # single spike, rest zero
    e[4] = rng.standard_normal(32); e[4, 7] = 4.0; e[4, 20] = -4.0    # +-max tie: first wins
    e[5] = rng.integers(-8, 8, 32); e[5, 0] = -8.0                     # exact Q4_0 grid, d = 1
    e[6] = rng.integers(-16, 16, 32); e[6, 0] = -16.0                  # exact Q5_0 grid
    e[7] = rng.integers(-127, 128, 32) + 0.5; e[7, 0] = 127.0         # roundf ties (Q8_0)
    e[8] = rng.integers(-127, 128, 32); e[8, 0] = 127.0               # exact Q8_0 grid
    e[9] = rng.integers(0, 16, 32) * 0.25 - 1.0; e[9, :2] = [-1.0, 2.75]  # exact Q4_1 grid
    e[10] = rng.standard_normal(32) * 1e-38                            # float32 subnormals
    e[11] = rng.standard_normal(32) * 1e6                              # fp16 overflow of d
    e[12] = rng.standard_normal(32) * 6e4
    e[13] = np.abs(rng.standard_normal(32)) + 10.0                     # all positive
    e[14] = -np.abs(rng.standard_normal(32)) - 10.0                    # all negative
    e[15] = rng.standard_normal(32) * 1e-7
    x[4] = e.reshape(-1)
    # rows 5-7: mixed magnitudes per element
    x[5:] = (rng.standard_normal((3, N_PER_ROW)) *
             10.0 ** rng.uniform(-6, 4, (3, N_PER_ROW))).astype(np.float32)
    if qtype in (T.F16, T.BF16):
        x[5] = fp_edge_values(rng, qtype, N_PER_ROW)
    return x


def fp_edge_values(rng: np.random.Generator, qtype: T, n: int) -> np.ndarray:
    """Values that exercise rounding: exact ties, overflow, subnormal ranges, +-0, +-inf."""
    if qtype == T.F16:
        h = rng.integers(0, 0x7C00, n // 2, dtype=np.uint32).astype(np.uint16)
        lo = h.view(np.float16).astype(np.float32)
        hi = (h + 1).view(np.float16).astype(np.float32)
        ties = ((lo.astype(np.float64) + hi.astype(np.float64)) / 2).astype(np.float32)
        special = np.array([0.0, -0.0, np.inf, -np.inf, 65504.0, 65519.99, 65520.0, 1e9,
                            2.0**-24, 2.0**-25, 2.0**-25 * 1.0001, 2.0**-14, 2.0**-14 * 0.99999,
                            5.96e-8, 1e-30, -65520.0], dtype=np.float32)
        vals = np.concatenate([ties, special])
    else:
        bits = rng.integers(0, 1 << 32, n // 2, dtype=np.uint64).astype(np.uint32)
        ties = (bits & 0xFFFF0000) | 0x8000                     # exactly halfway
        special = np.array([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7F800001,
                            0xFFC00000, 0x7F7FFFFF, 0x7F7F8000, 0x00000001, 0x807FFFFF,
                            0x3F808000, 0x3F818000], dtype=np.uint32)
        vals = np.concatenate([ties, special]).view(np.float32)
    vals = np.concatenate([vals, rng.standard_normal(n).astype(np.float32)])
    return vals[:n].astype(np.float32)


def ggml_zero_block_fixup(x: np.ndarray, q: np.ndarray, qtype: T) -> np.ndarray:
    """The one known gguf.quants / ggml difference: for Q4_0 and Q5_0 a block whose values are
    all +-0 gets d = (first element) / -8 in gguf.quants (so +0.0 when that element is -0.0),
    while ggml's loop never updates its `max = 0.0f` and stores d = 0.0f / -8 = -0.0 (0x8000).
    We follow ggml (what llama-quantize writes); the block's values dequantize to zero either way.
    """
    if qtype not in (T.Q4_0, T.Q5_0):
        return q
    block, size = GGML_QUANT_SIZES[qtype]
    q = q.view(np.uint8).reshape(-1, size).copy()
    zero = np.abs(x.reshape(-1, block)).max(axis=1) == 0
    q[zero, 0:2] = [0x00, 0x80]
    return q.reshape(x.shape[0], -1)


class Ggml:
    """ggml's C reference kernels, loaded from libggml-base.so via ctypes."""

    def __init__(self, path: str) -> None:
        self.lib = ctypes.CDLL(path)

    @staticmethod
    def c_name(qtype: T) -> str:
        return "q" + qtype.name[1:]  # Q4_K -> q4_K, as in ggml-quants.h

    def _fn(self, name: str):
        f = getattr(self.lib, name)
        f.restype = None
        f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        return f

    def quantize(self, x: np.ndarray, qtype: T) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if qtype in (T.F16, T.BF16):
            fn = self._fn("ggml_fp32_to_fp16_row" if qtype == T.F16 else "ggml_fp32_to_bf16_row_ref")
            out = np.zeros(x.size, dtype=np.uint16)
        else:
            fn = self._fn(f"quantize_row_{self.c_name(qtype)}_ref")
            block, size = GGML_QUANT_SIZES[qtype]
            out = np.zeros(x.size // block * size, dtype=np.uint8)
        fn(x.ctypes.data, out.ctypes.data, x.size)
        return out.view(np.uint8).reshape(x.shape[0], -1)

    def dequantize(self, raw: np.ndarray, qtype: T, n: int) -> np.ndarray:
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        out = np.zeros(n, dtype=np.float32)
        if qtype == T.F16:
            fn = self._fn("ggml_fp16_to_fp32_row")
        elif qtype == T.BF16:
            fn = self._fn("ggml_bf16_to_fp32_row")
        else:
            fn = self._fn(f"dequantize_row_{self.c_name(qtype)}")
        fn(raw.ctypes.data, out.ctypes.data, n)
        return out


def k_quantize_input(rng: np.random.Generator) -> np.ndarray:
    x = quantize_input(rng, T.Q4_K)
    x[7, :256] = 0.0  # a whole zero super-block
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", type=Path,
                    default=Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "quant")
    ap.add_argument("--ggml-lib", help="libggml-base.so: write K-quant quantize fixtures and "
                    "cross-check ggml against the gguf package")
    args = ap.parse_args()
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    ggml = Ggml(args.ggml_lib) if args.ggml_lib else None
    rng = np.random.default_rng(SEED)
    written = []
    for qtype in DEQUANT_TYPES:
        inp, out = dequant_case(rng, qtype)
        path = out_dir / f"dequant_{qtype.name}.bin"
        write_fixture(path, 0, qtype, N_ROWS, N_PER_ROW, inp, out)
        written.append(path)
        if ggml and qtype != T.F32:
            got = ggml.dequantize(np.frombuffer(inp, np.uint8), qtype, N_ROWS * N_PER_ROW)
            assert got.tobytes() == out, f"ggml and gguf.quants disagree on dequant {qtype.name}"
    for qtype in QUANTIZE_TYPES:
        x = quantize_input(rng, qtype)
        with np.errstate(all="ignore"):
            q = quants.quantize(x, qtype)
        q = ggml_zero_block_fixup(x, q, qtype)
        path = out_dir / f"quantize_{qtype.name}.bin"
        write_fixture(path, 1, qtype, N_ROWS, N_PER_ROW, x.tobytes(), q.view(np.uint8).tobytes())
        written.append(path)
        if ggml:
            got = ggml.quantize(x, qtype)
            assert got.tobytes() == q.view(np.uint8).tobytes(), f"ggml != gguf on {qtype.name}"
    if ggml:
        krng = np.random.default_rng(SEED + 1)
        for qtype in K_QUANTIZE_TYPES:
            x = k_quantize_input(krng)
            q = ggml.quantize(x, qtype)
            path = out_dir / f"quantize_{qtype.name}.bin"
            write_fixture(path, 1, qtype, N_ROWS, N_PER_ROW, x.tobytes(), q.tobytes())
            written.append(path)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} fixtures, {total} bytes, to {out_dir}"
          + (" (ggml cross-check passed)" if ggml else ""))


if __name__ == "__main__":
    main()

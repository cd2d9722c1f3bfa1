"""calc_quantization.py --gguf FILE: the header reader and the tensor-by-tensor comparison.

Real files are written with llama.cpp's own writer (the `gguf` package, gguf-py, pinned in requirements-dev.txt):
a tiny Llama with the tensors llama.cpp's converter names, stored in the types llama-quantize's rules give them
(derived by hand below from src/llama-quant.cpp, never from the script).  Hostile headers are built byte by byte
with struct from the layout in llama.cpp docs/gguf.md.
"""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from conftest import call_main

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf.quants import quantize  # noqa: E402

# The tiny Llama: 2 layers, hidden 64, 4 heads of 16, 2 KV heads, SwiGLU 128 wide, 96 tokens, untied output.
LAYERS, HIDDEN, HEADS, KV_HEADS, FFN, VOCAB = 2, 64, 4, 2, 128, 96
KV_WIDTH = KV_HEADS * HIDDEN // HEADS


def tiny_llama_tensors():
    """(name, PyTorch shape) in convert_hf_to_gguf's order, with llama.cpp's names (src/llama-arch.cpp)."""
    out = [("token_embd.weight", (VOCAB, HIDDEN))]
    for i in range(LAYERS):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", (HIDDEN,)), (p + "attn_q.weight", (HIDDEN, HIDDEN)),
                (p + "attn_k.weight", (KV_WIDTH, HIDDEN)), (p + "attn_v.weight", (KV_WIDTH, HIDDEN)),
                (p + "attn_output.weight", (HIDDEN, HIDDEN)), (p + "ffn_norm.weight", (HIDDEN,)),
                (p + "ffn_gate.weight", (FFN, HIDDEN)), (p + "ffn_up.weight", (FFN, HIDDEN)),
                (p + "ffn_down.weight", (HIDDEN, FFN))]
    return out + [("output_norm.weight", (HIDDEN,)), ("output.weight", (VOCAB, HIDDEN))]


def recipe(matrix_type):
    """llama-quant.cpp by hand for a file type whose default type is `matrix_type` and whose rules keep it for
    every matrix of this model (Q8_0: the output stays Q8_0 because `new_type == GGML_TYPE_Q8_0`; F16: nothing is
    quantized): every 2-D weight in it, the 1-D norms in F32 (tensor_allows_quantization: n_dims >= 2)."""
    return {name: (matrix_type if len(shape) == 2 else T.F32) for name, shape in tiny_llama_tensors()}


def write_tiny_llama(path, types, file_type=None, metadata=True, arch="llama", drop_keys=(), strings=None,
                     alignment=None):
    """A real GGUF file from gguf-py's GGUFWriter: the tiny Llama's metadata and tensors, each in types[name]."""
    writer = gguf.GGUFWriter(str(path), arch)
    if alignment is not None:  # written as general.alignment, a uint32
        writer.add_custom_alignment(alignment)
    keys = {"general.name": lambda: writer.add_name("tiny"),
            "block_count": lambda: writer.add_block_count(LAYERS),
            "embedding_length": lambda: writer.add_embedding_length(HIDDEN),
            "attention.head_count": lambda: writer.add_head_count(HEADS),
            "attention.head_count_kv": lambda: writer.add_head_count_kv(KV_HEADS),
            "feed_forward_length": lambda: writer.add_feed_forward_length(FFN),
            "context_length": lambda: writer.add_context_length(256),
            "tokenizer.ggml.tokens": lambda: writer.add_token_list([f"tok{i}" for i in range(VOCAB)])}
    if metadata:
        for key, add in keys.items():
            if key not in drop_keys:
                add()
    if file_type is not None:
        writer.add_file_type(int(file_type))
    for key, value in (strings or {}).items():
        writer.add_string(key, value)
    rng = np.random.default_rng(0)
    for name, shape in tiny_llama_tensors():
        x = rng.standard_normal(shape).astype(np.float32)
        kind = types[name]
        if kind == T.F32:
            writer.add_tensor(name, x)
        elif kind == T.F16:
            writer.add_tensor(name, x.astype(np.float16))
        else:  # gguf-py's numpy quantizer gives the raw blocks: rows of ne[0] / block blocks of the type's bytes
            writer.add_tensor(name, quantize(x, kind), raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def tensor_bytes_by_hand(types):
    """Each tensor's data in file order: rows of ne[0] elements in blocks of the type (ggml-common.h: Q8_0 34 B per
    32, Q4_0 18 B per 32, F16 2, F32 4)."""
    per_element = {T.F32: (4, 1), T.F16: (2, 1), T.Q8_0: (34, 32), T.Q4_0: (18, 32)}
    out = []
    for name, shape in tiny_llama_tensors():
        size, block = per_element[types[name]]
        out.append((name, int(np.prod(shape)) // block * size))
    return out


def data_bytes_by_hand(types):
    return sum(nbytes for _, nbytes in tensor_bytes_by_hand(types))


def run_json(quant, *argv):
    code, out, err = call_main(quant, ["--json", *argv])
    assert code == 0, err
    return json.loads(out)["gguf"], err


def refused(quant, *argv):
    code, out, err = call_main(quant, list(argv))
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--gguf" in lines[0] and "Traceback" not in err, err
    return lines[0]


# --------------------------------------------------------------------------------------------------------------
# The script's tables against gguf-py's (llama.cpp's own Python mirror of ggml.h and llama.h)
# --------------------------------------------------------------------------------------------------------------

def test_type_ids_match_gguf_py(quant):
    assert quant.GGML_TYPE_IDS == {t.value: t.name for t in gguf.GGMLQuantizationType}
    for name in quant.GGML_TYPE_IDS.values():
        if quant.ggml_type_size(name) is not None:
            assert quant.ggml_type_size(name) == gguf.GGML_QUANT_SIZES[T[name]], name
    file_types = {f.value: f.name.removeprefix("MOSTLY_").removeprefix("ALL_") for f in gguf.LlamaFileType}
    assert quant.GGUF_FILE_TYPE_IDS == file_types
    assert set(quant.GGUF_FILE_TYPES) <= set(file_types.values())


# --------------------------------------------------------------------------------------------------------------
# Real files from GGUFWriter
# --------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("matrix_type, file_type", [(T.Q8_0, gguf.LlamaFileType.MOSTLY_Q8_0),
                                                    (T.F16, gguf.LlamaFileType.MOSTLY_F16)])
def test_exact_recipe_has_no_differences(quant, tmp_path, matrix_type, file_type):
    types = recipe(matrix_type)
    path = write_tiny_llama(tmp_path / "tiny.gguf", types, file_type)
    g, err = run_json(quant, "--gguf", str(path))
    assert g["differences"] == []
    assert g["matching_tensors"] == g["tensor_count"] == g["predicted_tensor_count"] == 1 + 9 * LAYERS + 2
    assert g["compared_format"] == file_type.name.removeprefix("MOSTLY_")
    assert g["format_from"] == "general.file_type" and g["model_from"] == "the file's metadata"
    assert g["architecture"] == "llama" and g["version"] == 3 and g["name"] == "tiny"
    assert g["file_tensor_data_bytes"] == g["predicted_tensor_data_bytes"] == data_bytes_by_hand(types)
    assert g["file_bytes"] == path.stat().st_size
    # the reader stops at the end of the header: it finds the data where GGUFWriter put it (aligned to 32)
    assert g["file_header_bytes"] % 32 == 0 and g["file_header_bytes"] + g["file_tensor_data_bytes"] <= g["file_bytes"]
    assert "model read from the file's metadata" in err


def test_one_tensor_at_another_type_is_the_one_difference(quant, tmp_path):
    types = dict(recipe(T.Q8_0), **{"blk.1.attn_v.weight": T.F16})
    path = write_tiny_llama(tmp_path / "odd.gguf", types, gguf.LlamaFileType.MOSTLY_Q8_0)
    g, _ = run_json(quant, "--gguf", str(path))
    assert g["differences"] == [{"name": "blk.1.attn_v.weight", "predicted_type": "Q8_0", "file_type": "F16",
                                 "predicted_shape": [HIDDEN, KV_WIDTH], "file_shape": [HIDDEN, KV_WIDTH]}]
    # F16 instead of Q8_0 for one 64 x 32 matrix: 2 B instead of 34/32 B per element
    assert g["file_tensor_data_bytes"] - g["predicted_tensor_data_bytes"] == HIDDEN * KV_WIDTH * (2 - 34 / 32)
    code, out, _ = call_main(quant, ["--gguf", str(path)])
    assert code == 0 and "differences: 1" in out
    assert any(line.split() == ["blk.1.attn_v.weight", "Q8_0", "F16"] for line in out.splitlines())


def test_formats_names_the_type_to_compare(quant, tmp_path):
    path = write_tiny_llama(tmp_path / "q8.gguf", recipe(T.Q8_0), gguf.LlamaFileType.MOSTLY_Q8_0)
    g, _ = run_json(quant, "--gguf", str(path), "--formats", "q4_0")
    # llama-quant.cpp for Q4_0: every matrix Q4_0, except output.weight, which gets Q6_K and, its rows of 64 not
    # being whole 256-blocks, tensor_type_fallback's Q8_0: the file's Q8_0 output matches
    matrices = [name for name, shape in tiny_llama_tensors() if len(shape) == 2 and name != "output.weight"]
    assert [(d["name"], d["predicted_type"], d["file_type"]) for d in g["differences"]] == \
        [(name, "Q4_0", "Q8_0") for name in matrices]
    assert g["compared_format"] == "Q4_0" and g["format_from"] == "--formats"
    assert g["predicted_tensor_data_bytes"] == data_bytes_by_hand(
        {name: (T.Q4_0 if name in matrices else recipe(T.Q8_0)[name]) for name, _ in tiny_llama_tensors()})


def test_model_from_the_command_line(quant, tmp_path):
    path = write_tiny_llama(tmp_path / "q8.gguf", recipe(T.Q8_0), gguf.LlamaFileType.MOSTLY_Q8_0)
    flags = ["-l", str(LAYERS), "-hs", str(HIDDEN), "-a", str(HEADS), "--num-kv-heads", str(KV_HEADS),
             "--ffn-hidden-size", str(FFN), "-v", str(VOCAB), "-nl", "3", "--norm", "rmsnorm"]
    g, _ = run_json(quant, "--gguf", str(path), *flags)
    assert g["differences"] == [] and g["model_from"] == "the command line"
    # a model with a wider MLP: the three MLP matrices of each layer differ in shape, the rest match
    g, _ = run_json(quant, "--gguf", str(path), *flags[:8], "--ffn-hidden-size", "256", *flags[10:])
    assert sorted(d["name"] for d in g["differences"]) == sorted(
        f"blk.{i}.ffn_{m}.weight" for i in range(LAYERS) for m in ("gate", "up", "down"))
    assert g["differences"][0]["predicted_shape"] == [HIDDEN, 256]


def test_missing_metadata_is_named(quant, tmp_path):
    path = write_tiny_llama(tmp_path / "nofeed.gguf", recipe(T.F16), gguf.LlamaFileType.MOSTLY_F16,
                            drop_keys=("feed_forward_length", "tokenizer.ggml.tokens"))
    line = refused(quant, "--gguf", str(path))
    assert "llama.feed_forward_length" in line and "tokenizer.ggml.tokens" in line and "--preset" in line
    path = write_tiny_llama(tmp_path / "gpt2.gguf", recipe(T.F16), gguf.LlamaFileType.MOSTLY_F16, arch="gpt2")
    assert "'gpt2'" in refused(quant, "--gguf", str(path))
    path = write_tiny_llama(tmp_path / "untyped.gguf", recipe(T.F16))
    assert "--formats" in refused(quant, "--gguf", str(path))
    code, out, err = call_main(quant, ["--gguf", str(path), "--formats", "F16", "--json"])
    assert code == 0 and json.loads(out)["gguf"]["differences"] == []
    assert "--formats" in refused(quant, "--gguf", str(path), "--formats", "Q8_0,Q4_0")
    assert "--formats" in refused(quant, "--gguf", str(path), "--formats", "nf4")


def test_importance_matrix_keys_are_read(quant, tmp_path):
    # llama-quantize writes quantize.imatrix.file (and .dataset, .entries_count, .chunks_count) when it used one
    path = write_tiny_llama(tmp_path / "plain.gguf", recipe(T.Q8_0), gguf.LlamaFileType.MOSTLY_Q8_0)
    code, _, err = call_main(quant, ["--gguf", str(path)])
    assert code == 0 and "importance matrix" not in err
    path = write_tiny_llama(tmp_path / "imatrix.gguf", recipe(T.Q8_0), gguf.LlamaFileType.MOSTLY_Q8_0,
                            strings={"quantize.imatrix.file": "imatrix.dat"})
    g, err = run_json(quant, "--gguf", str(path))
    assert "importance matrix" in err and g["differences"] == []  # Q8_0 has no imatrix-dependent rule


# --------------------------------------------------------------------------------------------------------------
# Hostile headers, byte by byte (docs/gguf.md)
# --------------------------------------------------------------------------------------------------------------

def gstr(text: bytes | str) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(data)) + data


def kv_u32(key, value):
    return gstr(key) + struct.pack("<II", 4, value)


def kv_str(key, value):
    return gstr(key) + struct.pack("<I", 8) + gstr(value)


def tensor_info(name, ne, type_id, offset):
    return gstr(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne) + \
        struct.pack("<IQ", type_id, offset)


def kv_scalar(key, type_id, fmt, value):
    return gstr(key) + struct.pack("<I", type_id) + struct.pack(fmt, value)


def build(kvs=None, infos=None, data=None, version=3, magic=b"GGUF", counts=None, alignment=32):
    """A one-tensor F32 file (an 8 x 4 matrix 'w'), with the parts replaced as asked; the header is padded to
    `alignment` (which the caller writes in kvs when it is not the default 32)."""
    kvs = [kv_str("general.architecture", "llama"), kv_u32("general.file_type", 0)] if kvs is None else kvs
    infos = [tensor_info("w", (8, 4), 0, 0)] if infos is None else infos
    n_tensors, n_kv = counts or (len(infos), len(kvs))
    head = magic + struct.pack("<IQQ", version, n_tensors, n_kv) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * (-len(head) % alignment)
    return head + (bytes(8 * 4 * 4) if data is None else data)


def test_hand_built_header_is_read(quant, tmp_path):
    path = tmp_path / "ok.gguf"
    path.write_bytes(build())
    header = quant.read_gguf_header(str(path))
    assert header.tensors == [("w", (8, 4), "F32", 0)] and header.kv["general.file_type"] == 0
    assert header.data_start == 32 * ((4 + 4 + 8 + 8 + len(kv_str("general.architecture", "llama")) +
                                       len(kv_u32("general.file_type", 0)) + len(tensor_info("w", (8, 4), 0, 0)) +
                                       31) // 32)


HOSTILE = {
    "bad magic": (build(magic=b"GGML"), "not a GGUF file"),
    "empty": (b"", "not a GGUF file"),
    "version 1": (build(version=1), "unknown GGUF version 1"),
    "version 4": (build(version=4), "unknown GGUF version 4"),
    "big-endian": (build(version=0x03000000), "big-endian"),
    "2^60 tensors": (build(counts=(2**60, 2)), "tensors"),
    "2^60 key-values": (build(counts=(1, 2**60)), "key-values"),
    "2^40-byte key": (build(kvs=[struct.pack("<Q", 2**40) + b"general.architecture"]), "1,099,511,627,776"),
    "2^40-byte kept string": (build(kvs=[gstr("general.name") + struct.pack("<IQ", 8, 2**40)]), "65,536"),
    "2^40-byte string value": (build(kvs=[gstr("x") + struct.pack("<IQ", 8, 2**40)]), "truncated"),
    "2^40-element array": (build(kvs=[gstr("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2**40)]),
                           "strings"),
    "2^40 numbers": (build(kvs=[gstr("x") + struct.pack("<IIQ", 9, 10, 2**40)]), "truncated"),
    "nested array": (build(kvs=[gstr("x") + struct.pack("<IIQ", 9, 9, 1)]), "array elements"),
    "unknown value type": (build(kvs=[gstr("x") + struct.pack("<I", 13)]), "unknown value type 13"),
    "duplicate key": (build(kvs=[kv_u32("a", 1), kv_u32("a", 2)]), "duplicate key"),
    "bad bool": (build(kvs=[gstr("b") + struct.pack("<IB", 7, 2)]), "bool"),
    "bad alignment": (build(kvs=[kv_u32("general.alignment", 24)]), "power of two"),
    "unknown ggml type": (build(infos=[tensor_info("w", (8, 4), 99, 0)]), "unknown ggml type 99"),
    "removed ggml type": (build(infos=[tensor_info("w", (8, 4), 4, 0)]), "unknown ggml type 4"),
    "unsized ggml type": (build(infos=[tensor_info("w", (32, 4), 15, 0)]), "Q8_K"),
    "zero dimension": (build(infos=[tensor_info("w", (8, 0), 0, 0)]), "absurd shape"),
    "absurd dims": (build(infos=[tensor_info("w", (2**40, 2**40), 0, 0)]), "absurd shape"),
    "five dims": (build(infos=[tensor_info("w", (1, 1, 1, 1, 1), 0, 0)]), "5 dimensions"),
    "partial block": (build(infos=[tensor_info("w", (40, 4), 8, 0)]), "Q8_0"),
    "long name": (build(infos=[tensor_info("w" * 64, (8, 4), 0, 0)]), "64 bytes"),
    "duplicate tensor": (build(infos=[tensor_info("w", (8, 4), 0, 0)] * 2), "duplicate tensor"),
    "misaligned offset": (build(infos=[tensor_info("w", (8, 4), 0, 4)]), "not aligned"),
    "data beyond the file": (build(data=bytes(8 * 4 * 4 - 1)), "beyond the file"),
    "offset far beyond the file": (build(infos=[tensor_info("w", (8, 4), 0, 2**40)]),
                                   "'w' has data offset 1,099,511,627,776, expected 0"),
    # gguf.cpp: each offset must be the data laid out before it, every tensor padded to the alignment.  'w' is
    # 8 x 4 F32 = 128 bytes (a multiple of 32), so 'v' belongs at 128 exactly.
    "overlapping tensors": (build(infos=[tensor_info("w", (8, 4), 0, 0), tensor_info("v", (8, 4), 0, 0)],
                                  data=bytes(2 * 128)), "'v' has data offset 0, expected 128"),
    "partly overlapping tensors": (build(infos=[tensor_info("w", (8, 4), 0, 0), tensor_info("v", (8, 4), 0, 96)],
                                         data=bytes(2 * 128)), "'v' has data offset 96, expected 128"),
    "gap between tensors": (build(infos=[tensor_info("w", (8, 4), 0, 0), tensor_info("v", (8, 4), 0, 256)],
                                  data=bytes(3 * 128)), "'v' has data offset 256, expected 128"),
    "tensors out of order": (build(infos=[tensor_info("w", (8, 4), 0, 128), tensor_info("v", (8, 4), 0, 0)],
                                   data=bytes(2 * 128)), "'w' has data offset 128, expected 0"),
    # 'w' 5 x 3 F32 = 60 bytes, padded to 64: 'v' right after the unpadded 60 bytes is refused
    "unpadded previous tensor": (build(infos=[tensor_info("w", (5, 3), 0, 0), tensor_info("v", (8, 4), 0, 60)],
                                       data=bytes(64 + 128)), "'v' has data offset 60, expected 64"),
    # gguf.cpp: general.alignment must be a scalar of type uint32 (GGUF type 4), whatever its value
    "alignment as int32": (build(kvs=[kv_scalar("general.alignment", 5, "<i", 32)]),
                           "general.alignment must be of type u32 but is i32"),
    "alignment as uint64": (build(kvs=[kv_scalar("general.alignment", 10, "<Q", 32)]),
                            "general.alignment must be of type u32 but is u64"),
    "alignment as uint8": (build(kvs=[kv_scalar("general.alignment", 0, "<B", 32)]),
                           "general.alignment must be of type u32 but is u8"),
    "alignment as an array": (build(kvs=[gstr("general.alignment") + struct.pack("<IIQI", 9, 4, 1, 32)]),
                              "general.alignment must be of type u32 but is arr"),
    "alignment zero": (build(kvs=[kv_u32("general.alignment", 0)]), "power of two"),
    "not UTF-8": (build(kvs=[gstr(b"\xff\xfe")]), "UTF-8"),
}


def test_offsets_as_gguf_cpp_lays_them_are_read(quant, tmp_path):
    # two tensors, the first 5 x 3 F32 = 60 bytes padded to 64 (default alignment 32): 'v' at 64
    path = tmp_path / "two.gguf"
    path.write_bytes(build(infos=[tensor_info("w", (5, 3), 0, 0), tensor_info("v", (8, 4), 0, 64)],
                           data=bytes(64 + 128)))
    assert [t[3] for t in quant.read_gguf_header(str(path)).tensors] == [0, 64]
    # the same with general.alignment = 256 as a uint32: 'v' at 256, the header padded to 256
    path.write_bytes(build(kvs=[kv_u32("general.alignment", 256)], alignment=256,
                           infos=[tensor_info("w", (5, 3), 0, 0), tensor_info("v", (8, 4), 0, 256)],
                           data=bytes(256 + 128)))
    header = quant.read_gguf_header(str(path))
    assert header.alignment == 256 and header.data_start % 256 == 0
    assert [t[3] for t in header.tensors] == [0, 256]


@pytest.mark.parametrize("alignment", [None, 64, 256])
def test_writer_offsets_are_what_gguf_cpp_expects(quant, tmp_path, alignment):
    """GGUFWriter's files pass, and their offsets are gguf.cpp's layout computed by hand: each tensor starts where
    the previous ended, padded to the alignment.  At 256, the 64 x 32 Q8_0 matrices (2 x 32 x 34 = 2,176 bytes)
    and the 64-wide norms (256 bytes) exercise padding and its absence."""
    types = recipe(T.Q8_0)
    path = write_tiny_llama(tmp_path / "aligned.gguf", types, gguf.LlamaFileType.MOSTLY_Q8_0, alignment=alignment)
    align = alignment or 32
    expected, offset = [], 0
    for name, nbytes in tensor_bytes_by_hand(types):
        expected.append((name, offset))
        offset += -(-nbytes // align) * align
    header = quant.read_gguf_header(str(path))
    assert [(t[0], t[3]) for t in header.tensors] == expected
    assert header.alignment == align and header.data_start % align == 0
    g, _ = run_json(quant, "--gguf", str(path))
    assert g["differences"] == [] and g["alignment"] == align


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_header_is_one_line(quant, tmp_path, case):
    data, expected = HOSTILE[case]
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data)
    line = refused(quant, "--gguf", str(path), "--formats", "F32", "-l", "1", "-hs", "4", "-a", "1", "-v", "8")
    assert expected in line and str(path) in line


def test_every_truncation_is_one_line(quant, tmp_path):
    """Cut a real GGUFWriter file anywhere in its header, or inside its tensor data: one line, exit 2."""
    full = write_tiny_llama(tmp_path / "full.gguf", recipe(T.Q8_0), gguf.LlamaFileType.MOSTLY_Q8_0).read_bytes()
    header_end = quant.read_gguf_header(str(tmp_path / "full.gguf")).data_start
    cut = tmp_path / "cut.gguf"
    for end in list(range(0, header_end, 7)) + [header_end + 1, len(full) - 1]:
        cut.write_bytes(full[:end])
        line = refused(quant, "--gguf", str(cut))
        assert "truncated" in line or "beyond the file" in line or "not a GGUF file" in line, (end, line)


def test_missing_file_and_directory(quant, tmp_path):
    assert "cannot open" in refused(quant, "--gguf", str(tmp_path / "absent.gguf"))
    assert "not a regular file" in refused(quant, "--gguf", str(tmp_path)) or \
        "cannot open" in refused(quant, "--gguf", str(tmp_path))

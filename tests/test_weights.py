"""calc_transformer_params.py --weights: the stored tensors' count from safetensors headers beside the architecture's.

Real files: tiny models built by transformers (``AutoModelForCausalLM.from_config``) and saved with the
``safetensors`` package (``save_file`` / ``save_model``), so the header is the package's own; the expected counts
are PyTorch's (``sum(p.numel() for p in model.parameters())`` and the state dict's elements), never the script's.
Hostile headers are built by hand (8-byte little-endian length, JSON, data). The Hub cases use a local HTTP server
in the Hub's URL layout with range answers (206), as tests/test_hub.py does; nothing touches the network.
"""
from __future__ import annotations

import http.server
import json
import struct
import threading

import pytest
from hypothesis import given, settings, strategies as st

from conftest import call_main, load_script

params = load_script("calc_transformer_params")
PREFIX = "calc_transformer_params.py: error:"

# Tiny configs of two families the block reads (fields as transformers names them)
LLAMA = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "tie_word_embeddings": False,
         "max_position_embeddings": 64}
DEEPSEEK_V3 = {"model_type": "deepseek_v3", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
               "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 96, "tie_word_embeddings": False,
               "q_lora_rank": 16, "kv_lora_rank": 8, "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 8,
               "n_routed_experts": 4, "num_experts_per_tok": 2, "moe_intermediate_size": 12, "n_shared_experts": 1,
               "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "max_position_embeddings": 64}


def build(config):
    """(torch model, {name: contiguous tensor}) of the transformers model for `config`, random weights (CPU)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("safetensors")
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(transformers.AutoConfig.for_model(**config))
    return model, {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}


def save(folder, tensors, config=None, name="model.safetensors"):
    from safetensors.torch import save_file
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / name), metadata={"format": "pt"})
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def weights(argv):
    status, out, err = call_main(params, argv + ["--json"])
    assert status == 0, err
    return json.loads(out)


def refused(argv):
    status, out, err = call_main(params, argv)
    assert status == 2 and out == "" and err.startswith(PREFIX) and len(err.strip().splitlines()) == 1, (status, err)
    assert "--weights" in err, err
    return err


# --------------------------------------------------------------------------------------------------------------
# Real checkpoints written by the safetensors package
# --------------------------------------------------------------------------------------------------------------
def test_a_llama_checkpoint_holds_exactly_the_architectures_count(tmp_path):
    model, tensors = build(LLAMA)
    parameters = sum(p.numel() for p in model.parameters())  # PyTorch's count of the architecture
    folder = save(tmp_path / "tiny-llama", tensors, LLAMA)
    report = weights(["--weights", str(folder)])  # the folder's own config.json is the architecture
    stored = report["weights"]
    assert report["total"] == parameters
    assert stored["elements"] == parameters == sum(t.numel() for t in tensors.values())
    assert stored["by_dtype"] == {"F32": {"tensors": len(tensors), "elements": parameters, "bytes": 4 * parameters}}
    assert stored["difference"] == 0 and stored["explained"] == [] and stored["unexplained"] == 0
    assert (stored["tensors"], stored["files"], stored["index"]) == (len(tensors), 1, None)
    # the file itself, with the architecture from --config, gives the same
    report = weights(["--weights", str(folder / "model.safetensors"), "--config", str(folder)])
    assert report["weights"]["elements"] == parameters and report["weights"]["difference"] == 0


def test_dtypes_are_counted_per_dtype_with_their_byte_sizes(tmp_path):
    torch = pytest.importorskip("torch")
    _, tensors = build(LLAMA)
    mixed = {name: t.to(torch.bfloat16) if "mlp" in name else t for name, t in tensors.items()}
    mixed["model.layers.0.mlp.down_proj.weight"] = tensors["model.layers.0.mlp.down_proj.weight"].to(
        torch.float8_e4m3fn)
    save(tmp_path / "m", mixed, LLAMA)
    by_dtype = weights(["--weights", str(tmp_path / "m")])["weights"]["by_dtype"]
    f8 = 96 * 64  # down_proj: intermediate 96 -> hidden 64, one byte each
    bf16 = 3 * 96 * 64 * 2 - f8  # the other five MLP linears, two bytes each
    f32 = sum(t.numel() for t in tensors.values()) - bf16 - f8
    assert by_dtype == {"F32": {"tensors": 15, "elements": f32, "bytes": 4 * f32},
                        "BF16": {"tensors": 5, "elements": bf16, "bytes": 2 * bf16},
                        "F8_E4M3": {"tensors": 1, "elements": f8, "bytes": f8}}


def test_a_tied_head_stored_once_is_equal_and_stored_twice_is_named(tmp_path):
    from safetensors.torch import save_model
    config = dict(LLAMA, tie_word_embeddings=True)
    model, tensors = build(config)
    parameters = sum(p.numel() for p in model.parameters())  # the tied head once
    folder = tmp_path / "tied"
    folder.mkdir()
    save_model(model, str(folder / "model.safetensors"))  # drops the shared lm_head.weight, as save_pretrained does
    (folder / "config.json").write_text(json.dumps(config))
    assert weights(["--weights", str(folder)])["weights"]["difference"] == 0
    twice = dict(tensors, **{"lm_head.weight": tensors["lm_head.weight"].clone()})
    stored = weights(["--weights", str(save(tmp_path / "twice", twice, config))])["weights"]
    assert stored["elements"] == parameters + 128 * 64  # one more vocab x hidden matrix
    assert stored["difference"] == 128 * 64 and stored["unexplained"] == 0
    assert [(p["tensors"], p["elements"]) for p in stored["explained"]] == [(1, 128 * 64)]
    assert "tied" in stored["explained"][0]["what"]


def test_an_untied_head_not_stored_is_named(tmp_path):
    _, tensors = build(LLAMA)
    del tensors["lm_head.weight"]
    stored = weights(["--weights", str(save(tmp_path / "headless", tensors, LLAMA))])["weights"]
    assert stored["difference"] == -128 * 64 and stored["unexplained"] == 0
    assert "not stored" in stored["explained"][0]["what"]


def test_a_sharded_folder_with_an_index(tmp_path):
    model, tensors = build(LLAMA)
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:10], "model-00002-of-00002.safetensors": names[10:]}
    folder = tmp_path / "sharded"
    for shard, members in shards.items():
        save(folder, {n: tensors[n] for n in members}, name=shard)
    weight_map = {n: shard for shard, members in shards.items() for n in members}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps(LLAMA))
    stored = weights(["--weights", str(folder)])["weights"]
    assert (stored["files"], stored["index"]) == (2, "model.safetensors.index.json")
    assert stored["elements"] == sum(p.numel() for p in model.parameters()) and stored["difference"] == 0
    # the index given as a file reads the same
    assert weights(["--weights", str(folder / "model.safetensors.index.json"), "--config", str(folder)]
                   )["weights"]["elements"] == stored["elements"]
    # an index that disagrees with its shards is refused, naming the tensor
    wrong = dict(weight_map, **{names[0]: "model-00002-of-00002.safetensors"})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": wrong}))
    assert names[0] in refused(["--weights", str(folder)])
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {names[0]: "../x.safetensors"}}))
    assert "not a .safetensors file beside the index" in refused(["--weights", str(folder)])


def _deepseek_mtp_tensors(tensors, config):
    """DeepSeek-V3's MTP module as the HF checkpoint stores it (model.layers.{num_layers}.*; report sec. 2.2): a copy
    of a MoE decoder layer, enorm / hnorm / shared_head.norm (h each), eh_proj (h x 2h) and copies of the embedding
    and head (V x h each)."""
    torch = pytest.importorskip("torch")
    last, h, v = config["num_hidden_layers"], config["hidden_size"], config["vocab_size"]
    mtp = {name.replace(f"model.layers.{last - 1}.", f"model.layers.{last}."): t.clone()
           for name, t in tensors.items() if name.startswith(f"model.layers.{last - 1}.")}
    for norm in ("enorm", "hnorm", "shared_head.norm"):
        mtp[f"model.layers.{last}.{norm}.weight"] = torch.ones(h)
    mtp[f"model.layers.{last}.eh_proj.weight"] = torch.zeros(h, 2 * h)
    mtp[f"model.layers.{last}.embed_tokens.weight"] = torch.zeros(v, h)
    mtp[f"model.layers.{last}.shared_head.head.weight"] = torch.zeros(v, h)
    return mtp


def test_deepseek_v3_buffers_mtp_modules_and_fp8_scales(tmp_path):
    torch = pytest.importorskip("torch")
    model, tensors = build(DEEPSEEK_V3)
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(t.numel() for t in tensors.values()) - parameters  # the router's e_score_correction_bias
    assert buffers == 4  # one MoE layer of 4 experts
    stored = weights(["--weights", str(save(tmp_path / "v3", tensors, DEEPSEEK_V3))])["weights"]
    assert stored["elements"] == stored["expected_elements"] == parameters + buffers and stored["difference"] == 0
    # with the MTP module stored (as the published checkpoint does): named, and --mtp-layers 1 counts it
    mtp = _deepseek_mtp_tensors(tensors, DEEPSEEK_V3)
    mtp_elements = sum(t.numel() for t in mtp.values())
    folder = save(tmp_path / "v3-mtp", dict(tensors, **mtp), DEEPSEEK_V3)
    stored = weights(["--weights", str(folder)])["weights"]
    assert stored["difference"] == mtp_elements and stored["unexplained"] == 0
    assert [(p["tensors"], p["elements"]) for p in stored["explained"]] == [(len(mtp), mtp_elements)]
    assert "MTP" in stored["explained"][0]["what"]
    assert weights(["--weights", str(folder), "--mtp-layers", "1"])["weights"]["difference"] == 0
    # FP8 block scales (DeepSeek-V3's weight_scale_inv, one F32 per 128 x 128 block): quantization tensors
    scales = {"model.layers.0.mlp.down_proj.weight_scale_inv": torch.ones(1, 1),
              "model.layers.0.self_attn.o_proj.weight_scale_inv": torch.ones(1, 1)}
    stored = weights(["--weights", str(save(tmp_path / "v3-fp8", dict(tensors, **scales), DEEPSEEK_V3))])["weights"]
    assert stored["difference"] == 2 and stored["unexplained"] == 0
    assert "quantization" in stored["explained"][0]["what"]


def _llama_layer_elements(config):
    """One Llama decoder layer by hand: q and o (h x h), k and v (h x kv_heads * h / heads), gate, up and down
    (h x f each), two RMSNorm weights (h each)."""
    h, f = config["hidden_size"], config["intermediate_size"]
    kv = config["num_key_value_heads"] * h // config["num_attention_heads"]
    return 2 * h * h + 2 * h * kv + 3 * h * f + 2 * h


def test_layers_beyond_the_model_are_unexplained_for_a_model_without_mtp(tmp_path):
    deep = dict(LLAMA, num_hidden_layers=4)
    _, tensors = build(deep)
    folder = save(tmp_path / "deep4", tensors)
    (tmp_path / "c2.json").write_text(json.dumps(LLAMA))  # the 2-layer architecture
    stored = weights(["--weights", str(folder), "--config", str(tmp_path / "c2.json")])["weights"]
    two_layers = 2 * _llama_layer_elements(LLAMA)
    assert two_layers == 2 * (2 * 64 * 64 + 2 * 64 * 32 + 3 * 64 * 96 + 2 * 64) == 61_696
    assert stored["difference"] == stored["unexplained"] == two_layers and stored["explained"] == []
    assert any("layers 2..3 stored beyond the model's 2 layers" in note for note in stored["notes"])
    assert any("may not be this checkpoint's" in note for note in stored["notes"])
    status, out, _ = call_main(params, ["--weights", str(folder), "--config", str(tmp_path / "c2.json")])
    assert status == 0 and "+61,696  unexplained" in out and "explained by the tensors' names" not in out


def test_deepseek_v3_layers_beyond_its_mtp_modules_are_unexplained(tmp_path):
    _, tensors = build(DEEPSEEK_V3)
    mtp = _deepseek_mtp_tensors(tensors, DEEPSEEK_V3)  # layer 2, the config's num_nextn_predict_layers = 1
    mtp_elements = sum(t.numel() for t in mtp.values())
    # a second module, layer 3, past the config's count: no name explains it
    extra = {name.replace("model.layers.2.", "model.layers.3."): t.clone() for name, t in mtp.items()}
    config = dict(DEEPSEEK_V3, num_nextn_predict_layers=1)
    stored = weights(["--weights", str(save(tmp_path / "two", dict(tensors, **mtp, **extra), config))])["weights"]
    assert stored["difference"] == 2 * mtp_elements
    assert [(p["tensors"], p["elements"]) for p in stored["explained"]] == [(len(mtp), mtp_elements)]
    assert stored["unexplained"] == mtp_elements
    assert any("layer 3 stored beyond the model's 2 layers" in note for note in stored["notes"])
    # num_nextn_predict_layers = 0 (a DeepSeek-V3 model without MTP): its layer 2 is unexplained too
    config = dict(DEEPSEEK_V3, num_nextn_predict_layers=0)
    stored = weights(["--weights", str(save(tmp_path / "none", dict(tensors, **mtp), config))])["weights"]
    assert stored["explained"] == [] and stored["unexplained"] == mtp_elements
    # the same count from --config (read inside the block) explains layer 2 and not layer 3
    (tmp_path / "v3.json").write_text(json.dumps(dict(DEEPSEEK_V3, num_nextn_predict_layers=1)))
    stored = weights(["--weights", str(tmp_path / "two" / "model.safetensors"),
                      "--config", str(tmp_path / "v3.json")])["weights"]
    assert stored["explained"][0]["elements"] == stored["unexplained"] == mtp_elements


def test_scalar_masked_bias_buffers_are_named_and_a_one_dimensional_attn_bias_is_not(tmp_path):
    torch = pytest.importorskip("torch")
    _, tensors = build(LLAMA)
    # GPT-2 / GPT-J / GPT-NeoX store masked_bias as a 0-D tensor (one element, -1e4) per layer and the causal mask
    # attn.bias as 1 x 1 x n x n
    buffers = {f"model.layers.{i}.self_attn.masked_bias": torch.tensor(-1e4) for i in range(2)}
    buffers["model.layers.0.attn.bias"] = torch.ones(1, 1, 8, 8)
    stored = weights(["--weights", str(save(tmp_path / "mb", dict(tensors, **buffers), LLAMA))])["weights"]
    assert stored["difference"] == 2 * 1 + 8 * 8 and stored["unexplained"] == 0
    assert [(p["tensors"], p["elements"]) for p in stored["explained"]] == [(3, 66)]
    assert "buffers" in stored["explained"][0]["what"]
    # a one-dimensional attn.bias is a linear's bias the architecture lacks, not a mask
    bias = {"model.layers.0.attn.bias": torch.zeros(64)}
    stored = weights(["--weights", str(save(tmp_path / "b", dict(tensors, **bias), LLAMA))])["weights"]
    assert stored["explained"] == [] and stored["unexplained"] == 64


def test_vision_tower_tensors_are_named_and_the_rest_is_unexplained(tmp_path):
    torch = pytest.importorskip("torch")
    _, tensors = build(LLAMA)
    tower = {"model.vision_tower.patch_embed.weight": torch.zeros(64, 3, 4, 4),
             "model.multi_modal_projector.linear.weight": torch.zeros(64, 64)}
    folder = save(tmp_path / "vlm", dict(tensors, **tower), LLAMA)
    stored = weights(["--weights", str(folder)])["weights"]
    assert stored["difference"] == 64 * 3 * 16 + 64 * 64 and stored["unexplained"] == 0
    assert "vision" in stored["explained"][0]["what"] and stored["explained"][0]["tensors"] == 2
    # an architecture that is not this checkpoint's: the gap is printed as unexplained, never absorbed
    report = weights(["--weights", str(folder), "-v", "100"])  # flags replace the folder config's fields
    stored = report["weights"]
    assert stored["unexplained"] == 2 * 28 * 64  # 28 more rows in the input table and in the head
    assert any("not explained" in note for note in stored["notes"])
    status, out, _ = call_main(params, ["--weights", str(folder), "-v", "100"])
    assert status == 0 and "+3,584  unexplained" in out


def test_text_output_has_a_weights_section(tmp_path):
    _, tensors = build(LLAMA)
    status, out, err = call_main(params, ["--weights", str(save(tmp_path / "t", tensors, LLAMA))])
    assert status == 0, err
    assert "stored weights in" in out and "(parameters + checkpoint-only): equal" in out


# --------------------------------------------------------------------------------------------------------------
# Hostile files: one line, exit 2, naming --weights
# --------------------------------------------------------------------------------------------------------------
def safetensors_bytes(header, data=b"", length=None):
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(body) if length is None else length) + body + data


GOOD = {"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}


@pytest.mark.parametrize("content,reason", [
    (b"\x01\x02", "ended after 2 bytes"),
    (safetensors_bytes(GOOD, bytes(24), length=10**6), "goes beyond the file"),
    (safetensors_bytes(GOOD, bytes(24), length=200_000_000), "above 100,000,000"),
    (safetensors_bytes(b"{not json}"), "not valid JSON"),
    (safetensors_bytes(b"\xff\xfe{}"), "not UTF-8"),
    (safetensors_bytes([1, 2]), "expected a JSON object"),
    (safetensors_bytes(b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": 1}', bytes(4)),
     "given twice"),
    (safetensors_bytes({"w": {"shape": [2, 3], "data_offsets": [0, 24]}}, bytes(24)), "needs 'dtype'"),
    (safetensors_bytes({"w": {"dtype": "F32", "shape": [-2, 3], "data_offsets": [0, 24]}}, bytes(24)),
     "not an integer in"),
    (safetensors_bytes({"w": {"dtype": "F32", "shape": [2**64, 2**64], "data_offsets": [0, 24]}}, bytes(24)),
     "not an integer in"),
    (safetensors_bytes({"w": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 24]}}, bytes(24)),
     "beyond any file"),
    (safetensors_bytes({"w": {"dtype": "Q4_K", "shape": [2, 3], "data_offsets": [0, 24]}}, bytes(24)),
     "unknown dtype"),
    (safetensors_bytes({"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 24]}}, bytes(24)),
     "'w' has data_offsets [0, 24] (24 bytes) but shape [2, 3] of BF16 is 12 bytes"),
    (safetensors_bytes({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0]}}, bytes(24)), "not [begin, end]"),
    (safetensors_bytes({"a": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]},
                        "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}}, bytes(12)), "a gap or an overlap"),
    (safetensors_bytes(GOOD, bytes(20)), "truncated"),
    (safetensors_bytes({"__metadata__": [1]}), "'__metadata__' must be an object"),
    (safetensors_bytes({"w": "F32"}), "needs 'dtype'"),
])
def test_hostile_headers_are_one_line(tmp_path, content, reason):
    path = tmp_path / "model.safetensors"
    path.write_bytes(content)
    err = refused(["--weights", str(path), "--preset", "gpt2"])
    assert reason in err, err


def test_a_sane_hand_built_file_reads(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(dict(GOOD, __metadata__={"format": "pt"}), bytes(24)))
    stored = weights(["--weights", str(path), "--preset", "gpt2"])["weights"]
    assert stored["by_dtype"] == {"F32": {"tensors": 1, "elements": 6, "bytes": 24}}


def test_what_weights_needs_is_named(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(GOOD, bytes(24)))
    assert "no config.json there" in refused(["--weights", str(path)])
    assert "no such file or folder" in refused(["--weights", str(tmp_path / "nothing.safetensors")])
    (tmp_path / "empty-folder").mkdir()
    assert "neither model.safetensors.index.json nor model.safetensors" in refused(
        ["--weights", str(tmp_path / "empty-folder"), "--preset", "gpt2"])
    assert "not with --target-params" in refused(["--weights", str(path), "--target-params", "1B"])
    assert "not a regular file" in refused(["--weights", "/dev/zero", "--preset", "gpt2"])


@settings(max_examples=80)
@given(length=st.integers(0, 2**64 - 1) | st.integers(0, 64), body=st.binary(max_size=64))
def test_random_bytes_end_in_one_line(tmp_path_factory, length, body):
    path = tmp_path_factory.mktemp("random") / "model.safetensors"
    path.write_bytes(struct.pack("<Q", length) + body)
    status, out, err = call_main(params, ["--weights", str(path), "--preset", "gpt2"])
    assert status in (0, 2) and "Traceback" not in err
    if status == 2:
        assert out == "" and len(err.strip().splitlines()) == 1 and "--weights" in err


# --------------------------------------------------------------------------------------------------------------
# The Hub: a local server in its URL layout, range answers, never the whole file
# --------------------------------------------------------------------------------------------------------------
class HubHandler(http.server.BaseHTTPRequestHandler):
    files: dict = {}
    gated: set = set()
    seen: list = []
    short: set = set()  # paths whose range answers stop early (a truncated answer)

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Range")))
        repo = "/".join(self.path.strip("/").split("/")[:2])
        if repo in self.gated and self.headers.get("Authorization") != "Bearer hf_test":
            self.send_response(401)
            self.end_headers()
            return
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        wanted = self.headers.get("Range")
        if wanted:
            first, last = (int(x) for x in wanted.removeprefix("bytes=").split("-"))
            total, body = len(body), body[first:last + 1]
            if self.path in self.short:
                body = body[: len(body) // 2]
            self.send_response(206)
            # the range the Hub (RFC 9110 sec. 14.4) says it sends; a short answer still claims all of it
            self.send_header("Content-Range", f"bytes {first}-{min(last, total - 1)}/{total}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler)
    HubHandler.files, HubHandler.gated, HubHandler.seen, HubHandler.short = {}, set(), [], set()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # an empty cache, no saved token
    yield HubHandler
    server.shutdown()


def publish(hub, repo, folder, revision="main"):
    for path in folder.iterdir():
        hub.files[f"/{repo}/resolve/{revision}/{path.name}"] = path.read_bytes()


def test_a_hub_repo_is_read_by_ranges_with_its_config(hub, tmp_path):
    model, tensors = build(LLAMA)
    parameters = sum(p.numel() for p in model.parameters())
    publish(hub, "org/tiny", save(tmp_path / "tiny", tensors, LLAMA))
    report = weights(["--weights", "org/tiny"])
    assert report["total"] == parameters and report["weights"]["elements"] == parameters
    assert report["weights"]["difference"] == 0
    safetensors_asks = [r for p, r in hub.seen if p.endswith(".safetensors")]
    assert safetensors_asks and all(r is not None for r in safetensors_asks)  # never the whole file
    size = len(hub.files["/org/tiny/resolve/main/model.safetensors"])
    header_end = 8 + struct.unpack("<Q", hub.files["/org/tiny/resolve/main/model.safetensors"][:8])[0]
    assert all(int(r.split("-")[1]) < header_end < size for r in safetensors_asks)  # the data is never asked for


def test_a_sharded_hub_repo_at_a_revision(hub, tmp_path):
    model, tensors = build(LLAMA)
    names = sorted(tensors)
    folder = tmp_path / "shards"
    save(folder, {n: tensors[n] for n in names[:7]}, name="model-00001-of-00002.safetensors")
    save(folder, {n: tensors[n] for n in names[7:]}, LLAMA, name="model-00002-of-00002.safetensors")
    weight_map = {n: "model-00001-of-00002.safetensors" if i < 7 else "model-00002-of-00002.safetensors"
                  for i, n in enumerate(names)}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    publish(hub, "org/sharded", folder, revision="v1")
    stored = weights(["--weights", "org/sharded@v1"])["weights"]
    assert stored["files"] == 2 and stored["elements"] == sum(p.numel() for p in model.parameters())
    assert stored["difference"] == 0


def test_hub_failures_are_one_line(hub, tmp_path, monkeypatch):
    _, tensors = build(LLAMA)
    folder = save(tmp_path / "g", tensors, LLAMA)
    publish(hub, "gated/model", folder)
    hub.gated.add("gated/model")
    assert "401" in refused(["--weights", "gated/model"])
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    assert weights(["--weights", "gated/model"])["weights"]["difference"] == 0
    assert "or no such repo or revision" in refused(["--weights", "nobody/nothing", "--preset", "gpt2"])
    publish(hub, "org/short", folder)
    hub.short.add("/org/short/resolve/main/model.safetensors")
    assert "ended after" in refused(["--weights", "org/short"])
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    (hostile / "model.safetensors").write_bytes(safetensors_bytes(GOOD, bytes(24), length=10**9))
    publish(hub, "org/hostile", hostile)
    assert "above 100,000,000" in refused(["--weights", "org/hostile", "--preset", "gpt2"])
    (hostile / "model.safetensors").write_bytes(safetensors_bytes(GOOD, bytes(24), length=10**5))
    publish(hub, "org/hostile", hostile)
    assert "ended after" in refused(["--weights", "org/hostile", "--preset", "gpt2"])  # header beyond the file


def _cache(tmp_path, repo, folder, names):
    """huggingface_hub's cache layout under the hub fixture's HF_HOME: refs/main -> snapshots/<commit>/<file>."""
    commit = "c" * 40
    cache = tmp_path / "hf_home" / "hub" / f"models--{repo.replace('/', '--')}"
    (cache / "snapshots" / commit).mkdir(parents=True)
    for name in names:
        (cache / "snapshots" / commit / name).write_bytes((folder / name).read_bytes())
    (cache / "refs").mkdir()
    (cache / "refs" / "main").write_text(commit)


def test_an_offline_cache_miss_says_so_and_a_cached_single_file_repo_reads(hub, tmp_path, monkeypatch):
    model, tensors = build(LLAMA)
    folder = save(tmp_path / "c", tensors, LLAMA)
    publish(hub, "org/tiny", folder)  # on the server, but offline nothing is asked of it
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err = refused(["--weights", "org/tiny", "--preset", "gpt2"])
    assert "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in err and "no such" not in err, err
    assert "not in the local Hugging Face cache" in refused(["--weights", "org/tiny"])  # config.json, too
    # Found in review: a flag that edits the repo's model (--mtp-layers 1 for DeepSeek-V3) was read as a model from
    # flags alone, and the user saw "MTP modules are modelled for DeepSeek-V3 only" instead of the cache miss
    err = refused(["--weights", "org/tiny", "--mtp-layers", "1"])
    assert "not in the local Hugging Face cache" in err and "--mtp-layers" in err, err
    assert hub.seen == []
    # cached without an index (a single-file repo has none): the missing index is no obstacle
    _cache(tmp_path, "org/tiny", folder, ["model.safetensors", "config.json"])
    stored = weights(["--weights", "org/tiny"])["weights"]
    assert stored["elements"] == sum(p.numel() for p in model.parameters()) and stored["difference"] == 0
    assert hub.seen == []


# --------------------------------------------------------------------------------------------------------------
# The JSON keys, as the module docstring and docs/calc_transformer_params.md document them
# --------------------------------------------------------------------------------------------------------------
WEIGHTS_KEYS = {"source", "format", "index", "files", "tensors", "elements", "bytes", "by_dtype",
                "expected_elements", "difference", "explained", "unexplained", "notes"}


def test_weights_json_keys_are_the_documented_ones(tmp_path):
    torch = pytest.importorskip("torch")
    _, tensors = build(LLAMA)
    extra = {"model.vision_tower.x.weight": torch.zeros(2)}
    report = weights(["--weights", str(save(tmp_path / "k", dict(tensors, **extra), LLAMA))])
    assert set(report["weights"]) == WEIGHTS_KEYS
    assert all(set(row) == {"tensors", "elements", "bytes"} for row in report["weights"]["by_dtype"].values())
    assert all(set(part) == {"what", "tensors", "elements"} for part in report["weights"]["explained"])
    doc = params.__doc__
    assert all(f"``{key}``" in doc for key in WEIGHTS_KEYS | {"weights", "by_dtype", "explained"})


def test_qwen3_5_checkpoint_vision_tower_and_mtp_layer_are_named(tmp_path):
    """A Qwen3.5 checkpoint (issue 10, branch qwen35): the language model transformers builds from the text_config,
    plus the vision tower (model.visual.*) and the MTP layer under mtp.* (mtp.fc, mtp.layers.0, mtp.norm), which
    Qwen3_5ForCausalLM drops on load; each part is named, nothing is left unexplained."""
    torch = pytest.importorskip("torch")
    text = {"model_type": "qwen3_5_text", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 4,
            "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16, "linear_num_key_heads": 1,
            "linear_num_value_heads": 2, "linear_key_head_dim": 8, "linear_value_head_dim": 8, "vocab_size": 96,
            "tie_word_embeddings": False, "mtp_num_hidden_layers": 1}
    model, tensors = build(text)
    parameters = sum(p.numel() for p in model.parameters())
    extra = {"mtp.fc.weight": torch.zeros(32, 64), "mtp.norm.weight": torch.ones(32),
             "mtp.layers.0.mlp.down_proj.weight": torch.zeros(32, 48),
             "model.visual.blocks.0.attn.qkv.weight": torch.zeros(48, 16)}
    config = {"model_type": "qwen3_5", "text_config": text, "tie_word_embeddings": False}
    stored = weights(["--weights", str(save(tmp_path / "q35", dict(tensors, **extra), config))])["weights"]
    assert stored["expected_elements"] == parameters and stored["unexplained"] == 0
    parts = {p["what"].split(" (")[0]: (p["tensors"], p["elements"]) for p in stored["explained"]}
    assert parts == {"MTP layer": (3, 32 * 64 + 32 + 32 * 48), "vision / audio tower and projector tensors": (1, 768)}

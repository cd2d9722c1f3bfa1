"""--config org/name[@revision]: config.json from the Hugging Face Hub, read with the standard library.

The block's hub_file fetches ``{HF_ENDPOINT}/{repo}/resolve/{revision}/{file}`` (the Hub's URL layout, as
huggingface_hub's hf_hub_url builds it) after looking in the local cache (huggingface_hub's layout:
``models--org--name/refs/<revision>`` -> ``snapshots/<commit>/<file>``). These tests never touch the network: a local
HTTP server answers in the Hub's layout, with 401 for a gated repo without a token, 404 for anything unknown, and
range requests (206) for parts of a file.
"""
from __future__ import annotations

import http.server
import json
import threading

import pytest
from hypothesis import given, settings, strategies as st

from conftest import call_main, load_script

from test_params_torch import REAL_CONFIGS

LLAMA3 = REAL_CONFIGS["llama3"]  # meta-llama/Meta-Llama-3-8B config.json, cited in test_params_torch.py
TOKEN = "hf_test_token"


class HubHandler(http.server.BaseHTTPRequestHandler):
    files: dict = {}  # url path -> bytes
    gated: set = set()  # repos that answer 401 without the token
    seen: list = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Authorization"), self.headers.get("Range")))
        repo = "/".join(self.path.strip("/").split("/")[:2])
        if repo in self.gated and self.headers.get("Authorization") != f"Bearer {TOKEN}":
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
            size, body = len(body), body[first:last + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{first + len(body) - 1}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hub(monkeypatch, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler)
    HubHandler.files = {"/meta-llama/Meta-Llama-3-8B/resolve/main/config.json": json.dumps(LLAMA3).encode(),
                        "/gated/model/resolve/main/config.json": json.dumps(LLAMA3).encode(),
                        "/org/at-rev/resolve/v1.0/config.json": json.dumps(LLAMA3).encode()}
    HubHandler.gated, HubHandler.seen = {"gated/model"}, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))  # an empty cache, no saved token
    yield HubHandler
    server.shutdown()


def _params_total(argv):
    status, out, err = call_main(load_script("calc_transformer_params"), argv + ["--json"])
    return status, (json.loads(out)["total"] if status == 0 else None), err


def test_a_hub_id_reads_the_repos_config(hub):
    status, total, err = _params_total(["--config", "meta-llama/Meta-Llama-3-8B"])
    assert status == 0, err
    assert total == 8_030_261_248  # Meta's Llama-3-8B, as PyTorch counts it (test_params_torch.py)
    assert hub.seen[0][0] == "/meta-llama/Meta-Llama-3-8B/resolve/main/config.json"


@pytest.mark.parametrize("script", ["calc_transformer_flops", "calc_transformer_mem", "calc_quantization"])
def test_every_architecture_script_takes_a_hub_id(hub, script):
    status, out, err = call_main(load_script(script), ["--config", "meta-llama/Meta-Llama-3-8B", "--json"])
    assert status == 0, err


def test_the_cookbooks_spelling_and_a_revision(hub):
    assert _params_total(["--hf_model_name_or_path", "meta-llama/Meta-Llama-3-8B"])[1] == 8_030_261_248
    assert _params_total(["--config", "org/at-rev@v1.0"])[1] == 8_030_261_248
    assert hub.seen[-1][0] == "/org/at-rev/resolve/v1.0/config.json"


def test_a_gated_repo_says_what_to_do_and_the_token_opens_it(hub, monkeypatch):
    status, _, err = _params_total(["--config", "gated/model"])
    assert status == 2 and err.count("\n") == 1
    assert "401" in err and "HF_TOKEN" in err and "huggingface-cli login" in err
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert _params_total(["--config", "gated/model"])[1] == 8_030_261_248
    assert hub.seen[-1][1] == f"Bearer {TOKEN}"


def test_the_saved_login_token_is_used(hub, tmp_path, monkeypatch):
    home = tmp_path / "hf_home"
    home.mkdir(exist_ok=True)
    (home / "token").write_text(TOKEN + "\n")
    assert _params_total(["--config", "gated/model"])[1] == 8_030_261_248


def test_a_missing_repo_is_one_line(hub):
    status, _, err = _params_total(["--config", "nobody/nothing"])
    assert status == 2 and err.count("\n") == 1 and "no such repo, revision or file" in err


def test_the_local_cache_comes_first_and_offline_needs_it(hub, tmp_path, monkeypatch):
    commit = "a" * 40
    snapshot = tmp_path / "hf_home" / "hub" / "models--cached--model" / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(LLAMA3))
    refs = tmp_path / "hf_home" / "hub" / "models--cached--model" / "refs"
    refs.mkdir()
    (refs / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert _params_total(["--config", "cached/model"])[1] == 8_030_261_248
    assert _params_total(["--config", f"cached/model@{commit}"])[1] == 8_030_261_248
    assert hub.seen == []  # nothing asked of the server
    status, _, err = _params_total(["--config", "meta-llama/Meta-Llama-3-8B"])
    assert status == 2 and "not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in err


def test_an_unreachable_endpoint_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    status, _, err = _params_total(["--config", "meta-llama/Meta-Llama-3-8B"])
    assert status == 2 and err.count("\n") == 1 and "cannot reach http://127.0.0.1:9" in err


def test_a_local_folder_wins_over_a_hub_id(tmp_path, monkeypatch):
    folder = tmp_path / "org" / "name"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(LLAMA3))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert _params_total(["--config", "org/name"])[1] == 8_030_261_248


def test_a_range_request_reads_part_of_a_file(hub):
    block = load_script("calc_transformer_params")
    hub.files["/org/big/resolve/main/model.safetensors"] = bytes(range(256)) * 4
    assert block.hub_file("org/big", "model.safetensors", byte_range=(8, 15), flag="--weights") == bytes(range(8, 16))
    assert hub.seen[-1][2] == "bytes=8-15"
    with pytest.raises(block.InputError, match="ended after 1,024 bytes, before byte 2,047"):
        block.hub_file("org/big", "model.safetensors", byte_range=(1000, 2047), flag="--weights")


@settings(max_examples=40)
@given(body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_hostile_hub_answers_end_in_one_line(body):
    HubHandler.files["/hostile/repo/resolve/main/config.json"] = body
    status, out, err = call_main(load_script("calc_transformer_params"), ["--config", "hostile/repo", "--json"])
    assert status in (0, 2)
    if status == 2:
        assert out == "" and err.count("\n") == 1


@pytest.fixture(autouse=True, scope="module")
def _server_for_hypothesis():
    """test_hostile_hub_answers_end_in_one_line runs without the function fixture (hypothesis): one module server."""
    import os
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HubHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    saved = {k: os.environ.get(k) for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE", "HF_TOKEN")}
    os.environ["HF_ENDPOINT"] = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ["HF_HOME"] = "/nonexistent-hf-home-for-tests"
    os.environ.pop("HF_HUB_OFFLINE", None)
    os.environ.pop("HF_TOKEN", None)
    yield
    server.shutdown()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


class RedirectHandler(HubHandler):
    """The Hub's resolve/ URL for an LFS file answers 302 to a CDN host: here, to a second local server."""
    target = ""

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Authorization"), self.headers.get("Range")))
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.end_headers()


def test_a_redirect_to_another_host_does_not_carry_the_token(hub, monkeypatch):
    # huggingface_hub's HTTP clients drop Authorization when a redirect leaves the host; urllib alone would not
    cdn = http.server.ThreadingHTTPServer(("127.0.0.2", 0), HubHandler)  # serves HubHandler.files
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RedirectHandler)
    RedirectHandler.target = f"http://127.0.0.2:{cdn.server_address[1]}"
    for server in (cdn, front):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{front.server_address[1]}")
        monkeypatch.setenv("HF_TOKEN", "hf_secret")
        assert _params_total(["--config", "meta-llama/Meta-Llama-3-8B"])[1] == 8_030_261_248
        front_request, cdn_request = hub.seen[-2], hub.seen[-1]
        assert front_request[1] == "Bearer hf_secret" and cdn_request[1] is None
    finally:
        cdn.shutdown()
        front.shutdown()


class WrongRangeHandler(HubHandler):
    def do_GET(self):
        body = b"x" * 64
        self.send_response(206)
        self.send_header("Content-Range", "bytes 0-7/64")  # asked for 8-15
        self.send_header("Content-Length", "8")
        self.end_headers()
        self.wfile.write(body[:8])


def test_a_range_answer_for_other_bytes_is_refused(monkeypatch, tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WrongRangeHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("HF_HOME", str(tmp_path))
        block = load_script("calc_transformer_params")
        with pytest.raises(block.InputError, match="answered bytes 'bytes 0-7/64' for model.safetensors, not bytes 8-15"):
            block.hub_file("org/big", "model.safetensors", byte_range=(8, 15), flag="--weights")
    finally:
        server.shutdown()


def _cache_config(home, repo, commit, files):
    folder = home / "hub" / ("models--" + repo.replace("/", "--"))
    (folder / "snapshots" / commit).mkdir(parents=True)
    for name, body in files.items():
        (folder / "snapshots" / commit / name).write_bytes(body)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)


def test_paths_expand_and_the_older_offline_and_token_names_are_read(hub, tmp_path, monkeypatch):
    # huggingface_hub's constants.py expands ~ and $VARS in HF_HOME / HF_HUB_CACHE / HF_TOKEN_PATH, reads
    # TRANSFORMERS_OFFLINE like HF_HUB_OFFLINE and HUGGING_FACE_HUB_TOKEN like HF_TOKEN
    _cache_config(tmp_path / "home", "cached/model", "b" * 40, {"config.json": json.dumps(LLAMA3).encode()})
    monkeypatch.setenv("SOMEWHERE", str(tmp_path))
    monkeypatch.setenv("HF_HOME", "$SOMEWHERE/home")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert _params_total(["--config", "cached/model"])[1] == 8_030_261_248
    status, _, err = _params_total(["--config", "meta-llama/Meta-Llama-3-8B"])
    assert status == 2 and "HF_HUB_OFFLINE is set" in err and hub.seen == []
    monkeypatch.delenv("TRANSFORMERS_OFFLINE")
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", TOKEN)
    assert _params_total(["--config", "gated/model"])[1] == 8_030_261_248


def test_a_branch_the_cache_resolved_is_fetched_at_that_commit(hub, tmp_path, monkeypatch):
    # the cache holds config.json of main at commit c...; a file it lacks is asked for at that commit, not at main
    # (which may have moved), so one model's files never mix commits
    commit = "c" * 40
    _cache_config(tmp_path / "hf_home", "org/pinned", commit, {"config.json": json.dumps(LLAMA3).encode()})
    hub.files[f"/org/pinned/resolve/{commit}/model.safetensors"] = b"0123456789"
    block = load_script("calc_transformer_params")
    assert block.hub_file("org/pinned", "model.safetensors", byte_range=(2, 5), flag="--weights") == b"2345"
    assert hub.seen[-1][0] == f"/org/pinned/resolve/{commit}/model.safetensors"

"""
TEST DOUBLE -- THIS IS NOT huggingface_hub. Only tests use it (PYTHONPATH=test/doubles).

snapshot_download() simulates the Hub and its on-disk cache, taking the same decisions as the
real one (read from its source) and raising the same exception classes:

  cached snapshot (refs/<revision> -> snapshots/<commit> holds model.bin)  -> its path
  local_files_only=True and not cached     -> LocalEntryNotFoundError ("... pass 'local_files_only=False'")
  HF_HUB_OFFLINE=1 and not cached           -> LocalEntryNotFoundError from OfflineModeIsEnabled
  no network (FAKE_HF_NETWORK=down, or FAKE_FW_OFFLINE=1) and not cached
                                            -> LocalEntryNotFoundError ("... check your internet
                                               connection") from a ConnectionError
  Hub answers 5xx (FAKE_HF_NETWORK=5xx) and not cached
                                            -> LocalEntryNotFoundError from HfHubHTTPError (503)
  connection reset while fetching files (FAKE_HF_NETWORK=reset)
                                            -> ConnectionError, raised as is
  repository unknown to the fake Hub        -> RepositoryNotFoundError (as for a 401/404)
  gated repository (FAKE_HF_GATED lists it) -> GatedRepoError
  otherwise                                 -> "downloads": writes small fake model files

The fake Hub holds the repositories named in faster_whisper.utils._MODELS plus those listed in
FAKE_HF_REPOS (comma-separated repo ids).
"""

import json
import os

from huggingface_hub.errors import (  # noqa: F401 - re-exported like the real package
    DisabledRepoError,
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RequestsConnectionError,
    RevisionNotFoundError,
)

IS_TEST_DOUBLE = True
__version__ = "0.36.0"

# What refs/main points at in the simulated cache.
FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _env(name):
    value = os.environ.get(name)
    return value if value else None


def _hub_cache_dir(cache_dir):
    if cache_dir is not None:
        return str(cache_dir)
    if _env("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    hf_home = _env("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return os.path.join(hf_home, "hub")


def _known_repos():
    from faster_whisper.utils import _MODELS  # the standard repositories exist on the fake Hub

    extra = [r.strip() for r in (_env("FAKE_HF_REPOS") or "").split(",") if r.strip()]
    return set(_MODELS.values()) | set(extra)


def _network():
    if os.environ.get("FAKE_FW_OFFLINE") == "1":
        return "down"
    return _env("FAKE_HF_NETWORK") or "up"


def write_fake_model_dir(path, repo_id):
    """The files a converted faster-whisper repository holds (tiny fake contents)."""
    name = repo_id.rsplit("/", 1)[-1]
    multilingual = not name.endswith(".en")
    n_mels = 128 if ("large-v3" in repo_id or "turbo" in repo_id) else 80
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"test_double": True, "fake_is_multilingual": multilingual, "num_mel_bins": n_mels}, f)
    with open(os.path.join(path, "model.bin"), "wb") as f:
        f.write(b"TEST DOUBLE: not a CTranslate2 model\n")
    with open(os.path.join(path, "tokenizer.json"), "w", encoding="utf-8") as f:
        # The real file is a tokenizers JSON; the double only records the vocabulary size.
        vocab = 51866 if n_mels == 128 else (51865 if multilingual else 51864)
        json.dump({"test_double_vocab_size": vocab}, f)
    with open(os.path.join(path, "vocabulary.json"), "w", encoding="utf-8") as f:
        f.write("[]")
    with open(os.path.join(path, "preprocessor_config.json"), "w", encoding="utf-8") as f:
        json.dump(
            {"feature_size": n_mels, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30, "n_fft": 400}, f
        )


def snapshot_download(
    repo_id,
    *,
    repo_type=None,
    revision=None,
    cache_dir=None,
    local_dir=None,
    library_name=None,
    library_version=None,
    user_agent=None,
    proxies=None,
    etag_timeout=10,
    force_download=False,
    token=None,
    local_files_only=False,
    allow_patterns=None,
    ignore_patterns=None,
    max_workers=8,
    tqdm_class=None,
    headers=None,
    endpoint=None,
    local_dir_use_symlinks="auto",
    resume_download=False,
):
    revision = revision or "main"
    storage = os.path.join(_hub_cache_dir(cache_dir), "models--" + repo_id.replace("/", "--"))
    api_error = None
    online = False
    if not local_files_only:
        network = _network()
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            api_error = OfflineModeIsEnabled("Cannot reach https://huggingface.co: offline mode is enabled.")
        elif network == "down":
            api_error = RequestsConnectionError(
                "HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded "
                "(Caused by NewConnectionError: Failed to establish a new connection: "
                "[Errno -3] Temporary failure in name resolution)"
            )
        elif network == "5xx":
            api_error = HfHubHTTPError(
                "503 Server Error: Service Unavailable for url: "
                "https://huggingface.co/api/models/%s/revision/%s" % (repo_id, revision),
                503,
            )
        elif repo_id not in _known_repos():
            raise RepositoryNotFoundError(
                "401 Client Error. Repository Not Found for url: https://huggingface.co/api/models/%s/revision/%s. "
                "Please make sure you specified the correct `repo_id` and `repo_type`." % (repo_id, revision),
                401,
            )
        elif repo_id in (_env("FAKE_HF_GATED") or "").split(","):
            raise GatedRepoError(
                "403 Client Error. Cannot access gated repo for url https://huggingface.co/api/models/%s." % repo_id,
                403,
            )
        else:
            online = True

    if not online:
        ref = os.path.join(storage, "refs", revision)
        commit = None
        if os.path.exists(ref):
            with open(ref, encoding="utf-8") as f:
                commit = f.read().strip()
        if commit is not None:
            folder = os.path.join(storage, "snapshots", commit)
            if os.path.exists(folder):
                return folder
        if local_files_only:
            raise LocalEntryNotFoundError(
                "Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and "
                "outgoing traffic has been disabled. To enable repo look-ups and downloads online, pass "
                "'local_files_only=False' as input."
            )
        if isinstance(api_error, OfflineModeIsEnabled):
            raise LocalEntryNotFoundError(
                "Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and "
                "outgoing traffic has been disabled. To enable repo look-ups and downloads online, set "
                "'HF_HUB_OFFLINE=0' as environment variable."
            ) from api_error
        raise LocalEntryNotFoundError(
            "An error happened while trying to locate the files on the Hub and we cannot find the appropriate"
            " snapshot folder for the specified revision on the local disk. Please check your internet connection"
            " and try again."
        ) from api_error

    if _network() == "reset":
        raise RequestsConnectionError("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))")
    folder = local_dir if local_dir is not None else os.path.join(storage, "snapshots", FAKE_COMMIT)
    write_fake_model_dir(folder, repo_id)
    if local_dir is None:
        os.makedirs(os.path.join(storage, "refs"), exist_ok=True)
        with open(os.path.join(storage, "refs", revision), "w", encoding="utf-8") as f:
            f.write(FAKE_COMMIT)
    return str(folder)

"""Stable error codes of the sidecar protocol and the mapping from library exceptions.

| code                     | retryable | meaning                                                        |
| ------------------------ | --------- | -------------------------------------------------------------- |
| invalid_input            | no        | the job's options or audio: refused here or by the library     |
| invalid_request          | no        | a malformed protocol request (a bug on the Node side)          |
| model_not_found          | no        | no such model name/repository/directory, or not cached offline |
| model_unavailable        | yes       | the Hub could not be reached (network, 5xx): try again later   |
| model_load_failed        | yes       | the model exists but could not be loaded                       |
| compute_type_unsupported | no        | the device cannot run the requested compute type               |
| cuda_error               | yes       | a CUDA library failed (cuBLAS/cuDNN missing, driver too old)   |
| cuda_oom                 | yes       | out of GPU memory                                              |
| cancelled                | no        | the request was cancelled                                      |
| transcribe_failed        | yes       | any other failure while transcribing                           |
| protocol_error           | no        | the byte stream could not be parsed; the sidecar exits          |
"""

RETRYABLE = {
    "invalid_input": False,
    "invalid_request": False,
    "model_not_found": False,
    "model_unavailable": True,
    "model_load_failed": True,
    "compute_type_unsupported": False,
    "cuda_error": True,
    "cuda_oom": True,
    "cancelled": False,
    "transcribe_failed": True,
    "protocol_error": False,
}

# Substrings (lower case) that identify a failing CUDA stack in an exception message.
CUDA_MARKERS = ("cuda", "cublas", "cudnn", "libcu", "nvrtc", "ptx", "driver version")
# huggingface_hub: the repository, revision or file does not exist (or is private/gated).
MISSING_TYPES = {
    "RepositoryNotFoundError",
    "GatedRepoError",
    "RevisionNotFoundError",
    "RemoteEntryNotFoundError",
    "DisabledRepoError",
}
# The network or the Hub failed (requests, httpx, urllib3, http.client, huggingface_hub).
NETWORK_TYPES = {
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Timeout",
    "TimeoutError",
    "HTTPError",
    "HfHubHTTPError",
    "ProxyError",
    "SSLError",
    "ChunkedEncodingError",
    "ProtocolError",
    "RemoteDisconnected",
    "IncompleteRead",
    "ConnectError",
    "ReadError",
    "WriteError",
    "NetworkError",
    "TransportError",
    "MaxRetryError",
}
# What faster-whisper and ctranslate2 raise when an argument is wrong.
ARGUMENT_TYPES = (TypeError, ValueError, AssertionError)


class SidecarError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def retryable(self) -> bool:
        return RETRYABLE.get(self.code, True)


class Cancelled(SidecarError):
    def __init__(self):
        super().__init__("cancelled", "the request was cancelled")


def _describe(exc: BaseException) -> str:
    return "%s: %s" % (type(exc).__name__, exc)


def _names(exc) -> set:
    return {c.__name__ for c in type(exc).__mro__} if exc is not None else set()


def classify_load_error(exc: BaseException, downloads_tried: bool = True) -> SidecarError:
    """downloads_tried: the last attempt was allowed to reach the Hub (else it was offline by
    setting, and "not in the cache" is final)."""
    if isinstance(exc, SidecarError):
        return exc
    text = _describe(exc)
    low = text.lower()
    names = _names(exc)
    if "compute type" in low and "do not support" in low:
        return SidecarError("compute_type_unsupported", text)
    if names & MISSING_TYPES:
        return SidecarError("model_not_found", text)
    if "LocalEntryNotFoundError" in names:
        # snapshot_download found nothing in the cache and could not ask the Hub. Only an
        # outage (a connection error or a 5xx as the cause) is worth another attempt.
        cause = exc.__cause__ or exc.__context__
        offline_by_setting = not downloads_tried or "OfflineModeIsEnabled" in _names(cause) or "hf_hub_offline" in low
        if not offline_by_setting and (_names(cause) & NETWORK_TYPES or "internet connection" in low):
            return SidecarError(
                "model_unavailable", "the model is not cached and the Hugging Face Hub could not be reached (%s)" % text
            )
        return SidecarError("model_not_found", text)
    if names & NETWORK_TYPES:
        return SidecarError("model_unavailable", text)
    if isinstance(exc, FileNotFoundError) or "invalid model size" in low or "unable to open file" in low:
        return SidecarError("model_not_found", text)
    if "out of memory" in low:
        return SidecarError("cuda_oom" if "cuda" in low else "model_load_failed", text)
    if any(m in low for m in CUDA_MARKERS):
        return SidecarError("cuda_error", text)
    return SidecarError("model_load_failed", text)


def classify_transcribe_error(exc: BaseException, before_first_segment: bool) -> SidecarError:
    """before_first_segment: raised by transcribe() itself or while the generator produced its
    first window, where faster-whisper and ctranslate2 check their arguments (some lazily: the
    generate() call of the first window)."""
    if isinstance(exc, SidecarError):
        return exc
    text = _describe(exc)
    low = text.lower()
    if "out of memory" in low and "cuda" in low:
        return SidecarError("cuda_oom", text)
    if any(m in low for m in CUDA_MARKERS) and not isinstance(exc, ARGUMENT_TYPES):
        return SidecarError("cuda_error", text)
    if before_first_segment and isinstance(exc, ARGUMENT_TYPES):
        return SidecarError("invalid_input", "the speech engine refused the job's options: %s" % text)
    return SidecarError("transcribe_failed", text)

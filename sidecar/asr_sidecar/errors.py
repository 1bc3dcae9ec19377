"""Stable error codes of the sidecar protocol and the mapping from library exceptions.

| code                     | retryable | meaning                                                       |
| ------------------------ | --------- | ------------------------------------------------------------- |
| invalid_request          | no        | malformed request or option value (the library rejected it)   |
| model_not_found          | no        | unknown model name, missing local dir/files, not cached offline |
| model_load_failed        | yes       | the model exists but could not be loaded                      |
| compute_type_unsupported | no        | the device cannot run the requested compute type              |
| cuda_error               | yes       | a CUDA library failed (cuBLAS/cuDNN missing, driver too old)  |
| cuda_oom                 | yes       | out of GPU memory                                             |
| cancelled                | no        | the request was cancelled                                     |
| transcribe_failed        | yes       | any other failure while transcribing                          |
| protocol_error           | no        | the byte stream could not be parsed; the sidecar exits         |
"""

RETRYABLE = {
    "invalid_request": False,
    "model_not_found": False,
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
NOT_FOUND_TYPES = ("LocalEntryNotFoundError", "RepositoryNotFoundError", "EntryNotFoundError",
                   "RevisionNotFoundError", "GatedRepoError")


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


def classify_load_error(exc: BaseException) -> SidecarError:
    if isinstance(exc, SidecarError):
        return exc
    text = _describe(exc)
    low = text.lower()
    names = {c.__name__ for c in type(exc).__mro__}
    if "compute type" in low and "do not support" in low:
        return SidecarError("compute_type_unsupported", text)
    if names & set(NOT_FOUND_TYPES) or isinstance(exc, FileNotFoundError) or "invalid model size" in low \
            or "unable to open file" in low:
        return SidecarError("model_not_found", text)
    if "out of memory" in low:
        return SidecarError("cuda_oom" if "cuda" in low else "model_load_failed", text)
    if any(m in low for m in CUDA_MARKERS):
        return SidecarError("cuda_error", text)
    return SidecarError("model_load_failed", text)


def classify_transcribe_error(exc: BaseException, before_iteration: bool) -> SidecarError:
    """before_iteration: raised by transcribe() itself, where argument checks happen."""
    if isinstance(exc, SidecarError):
        return exc
    text = _describe(exc)
    low = text.lower()
    if "out of memory" in low and "cuda" in low:
        return SidecarError("cuda_oom", text)
    if any(m in low for m in CUDA_MARKERS) and not isinstance(exc, (TypeError, ValueError)):
        return SidecarError("cuda_error", text)
    if before_iteration and isinstance(exc, (TypeError, ValueError)):
        return SidecarError("invalid_request", text)
    return SidecarError("transcribe_failed", text)

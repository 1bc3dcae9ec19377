"""TEST DOUBLE of huggingface_hub.errors: the exception classes faster-whisper's download path
can raise, with the real names and the bases the sidecar's classification relies on.

Real hierarchy (huggingface_hub 1.x; 0.2x adds ValueError to LocalEntryNotFoundError's bases):
  OfflineModeIsEnabled(ConnectionError)
  HfHubHTTPError(HTTPError, OSError)
  RepositoryNotFoundError(HfHubHTTPError); GatedRepoError(RepositoryNotFoundError)
  RevisionNotFoundError(HfHubHTTPError); DisabledRepoError(HfHubHTTPError)
  EntryNotFoundError(Exception); RemoteEntryNotFoundError(HfHubHTTPError, EntryNotFoundError)
  LocalEntryNotFoundError(FileNotFoundError, EntryNotFoundError)
"""


class HTTPError(OSError):
    """Stands in for the HTTP client's HTTPError (requests or httpx), also an OSError."""


class RequestsConnectionError(HTTPError):
    """Stands in for requests.exceptions.ConnectionError (a RequestException, i.e. an OSError)."""


RequestsConnectionError.__name__ = "ConnectionError"
RequestsConnectionError.__qualname__ = "ConnectionError"


class OfflineModeIsEnabled(ConnectionError):
    """Raised when a request is made but HF_HUB_OFFLINE=1 is set."""


class HfHubHTTPError(HTTPError, OSError):
    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class RepositoryNotFoundError(HfHubHTTPError):
    pass


class GatedRepoError(RepositoryNotFoundError):
    pass


class RevisionNotFoundError(HfHubHTTPError):
    pass


class DisabledRepoError(HfHubHTTPError):
    pass


class EntryNotFoundError(Exception):
    pass


class RemoteEntryNotFoundError(HfHubHTTPError, EntryNotFoundError):
    pass


class LocalEntryNotFoundError(FileNotFoundError, EntryNotFoundError):
    def __init__(self, message):
        super().__init__(message)

"""Framing of the JSON-lines protocol.

stdin: one JSON object per line. A `transcribe` header carries `pcm_bytes`: exactly that many
bytes of 16 kHz mono float32 little-endian PCM follow the header's newline (no separator).
stdout: one JSON object per line, written under a lock (several threads reply). Anything else
that would print to fd 1 (Python or native code) is redirected to stderr at start-up so it
cannot corrupt the stream.
"""

import contextlib
import json
import math
import os
import sys
import threading

MAX_HEADER_BYTES = 1 << 20
MAX_PCM_BYTES = 16000 * 4 * 60 * 60 * 4  # four hours of audio


class ProtocolError(Exception):
    pass


def _clean(value):
    """JSON without NaN/Infinity (Node's JSON.parse rejects them) and without numpy scalars."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


class Channel:
    def __init__(self):
        out_fd = os.dup(1)
        os.dup2(2, 1)  # stray prints now land on stderr
        sys.stdout = sys.stderr
        self._out = os.fdopen(out_fd, "wb", buffering=0)
        self._in = sys.stdin.buffer
        self._lock = threading.Lock()

    def send(self, message: dict) -> None:
        data = (json.dumps(_clean(message), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        # A broken pipe: the parent is gone; the reader sees EOF and we shut down.
        with self._lock, contextlib.suppress(BrokenPipeError, ValueError):
            self._out.write(data)

    def read(self):
        """The next request as (header dict, pcm bytearray or None); None at EOF."""
        line = self._in.readline(MAX_HEADER_BYTES + 1)
        if not line:
            return None
        if len(line) > MAX_HEADER_BYTES or not line.endswith(b"\n"):
            raise ProtocolError("request header too long or truncated")
        try:
            header = json.loads(line)
        except ValueError as exc:
            raise ProtocolError("request is not JSON: %s" % exc) from exc
        if not isinstance(header, dict) or not isinstance(header.get("type"), str):
            raise ProtocolError("request must be an object with a string 'type'")
        size = header.get("pcm_bytes", 0)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0 or size > MAX_PCM_BYTES:
            raise ProtocolError("pcm_bytes must be an integer between 0 and %d" % MAX_PCM_BYTES)
        pcm = None
        if size:
            # Read straight into a writable buffer: np.frombuffer then wraps it without a copy.
            pcm = bytearray(size)
            view = memoryview(pcm)
            got = 0
            while got < size:
                n = self._in.readinto(view[got:])
                if not n:
                    raise ProtocolError("stdin closed inside a PCM frame (%d of %d bytes)" % (got, size))
                got += n
        return header, pcm

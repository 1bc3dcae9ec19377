"""Text renderings of a transcript: plain_text, formatted_text, srt, vtt.

Timestamps always carry hours (HH:MM:SS), with a comma before the milliseconds in SRT and a dot
in WebVTT, as both formats require. Segments are dicts with start, end and text.
"""

FORMATS = ("plain_text", "formatted_text", "srt", "vtt")


def timestamp(seconds: float, decimal_marker: str) -> str:
    milliseconds = max(0, int(round(seconds * 1000.0)))
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    secs, milliseconds = divmod(milliseconds, 1_000)
    return "%02d:%02d:%02d%s%03d" % (hours, minutes, secs, decimal_marker, milliseconds)


def _cue_text(segment) -> str:
    # "-->" inside a cue would end it early in both formats.
    return segment["text"].strip().replace("-->", "->")


def plain_text(segments) -> str:
    return " ".join(s["text"].strip() for s in segments if s["text"].strip())


def formatted_text(segments) -> str:
    return "\n".join(s["text"].strip() for s in segments if s["text"].strip())


def srt(segments) -> str:
    blocks = []
    for i, s in enumerate(segments, start=1):
        blocks.append("%d\n%s --> %s\n%s\n" % (i, timestamp(s["start"], ","), timestamp(s["end"], ","), _cue_text(s)))
    return "\n".join(blocks)


def vtt(segments) -> str:
    blocks = ["WEBVTT\n"]
    for s in segments:
        blocks.append("%s --> %s\n%s\n" % (timestamp(s["start"], "."), timestamp(s["end"], "."), _cue_text(s)))
    return "\n".join(blocks)


RENDER = {"plain_text": plain_text, "formatted_text": formatted_text, "srt": srt, "vtt": vtt}


def render_all(segments) -> dict:
    return {name: fn(segments) for name, fn in RENDER.items()}

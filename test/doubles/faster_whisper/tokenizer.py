"""TEST DOUBLE of faster_whisper.tokenizer (1.2.1): the language codes and tasks, and the
argument checks the real Tokenizer makes (ValueError for an unknown task or language on a
multilingual model; an English-only model ignores both)."""

_TASKS = (
    "transcribe",
    "translate",
)

_LANGUAGE_CODES = tuple(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr "
    "ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa "
    "pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue".split()
)


class Tokenizer:
    """Only what the double needs: the checks, and stand-in special token ids."""

    def __init__(self, tokenizer, multilingual, task=None, language=None):
        self.tokenizer = tokenizer
        if multilingual:
            if task not in _TASKS:
                raise ValueError("'%s' is not a valid task (accepted tasks: %s)" % (task, ", ".join(_TASKS)))
            if language not in _LANGUAGE_CODES:
                raise ValueError(
                    "'%s' is not a valid language code (accepted language codes: %s)"
                    % (language, ", ".join(_LANGUAGE_CODES))
                )
            self.language_code = language
        else:
            self.language_code = "en"
        # Placeholder ids below every vocabulary size (the real ones come from tokenizer.json).
        base = 50257 if multilingual else 50256
        self.special_tokens = (base + 1, base + 101, base + 102, base + 103, base + 104, base + 105)
        self.non_speech_tokens = (1, 2, 7, 8, 9, 10, 14, 25, 26, 27, 28, 29, 31, 58, 59, 60, 61, 62, 63)

"""The creative policy: what a recommendation's description and sponsor name may say to an agent.

Pure Python on three strings (no ORM, no request): campaign validation calls `check` and turns
each `Violation` into its error shape. Rules, each a stable code in `Rule`:

- `empty`: the description and the sponsor need at least one visible character.
- `too_long`: description at most 280 characters, sponsor at most 64 (code points as typed).
- `control_character`: one line of text: no C0/C1 controls (tab, line break), no line or
  paragraph separators.
- `invisible_character`: no format characters (zero-width, bidi controls, soft hyphen, tag
  characters U+E0000-E007F), no variation-selector runs (a single U+FE0E/U+FE0F after a visible
  character is emoji presentation and stays), no blank fillers (Hangul fillers, braille blank);
  a zero-width joiner between two emoji is allowed.
- `unsupported_character`: no surrogates, private-use or unassigned code points.
- `markup`: no HTML/XML tags or entities, Markdown links, images, headings, emphasis, code,
  rules or tables, no template syntax (`{{ }}`, `{% %}`, `${ }`, `<% %>`, `[[ ]]`).
- `foreign_url`: no URL, domain, e-mail address or IP address other than the host of the
  campaign's own resource (or a parent domain of it, so "Acme.io" may sponsor api.acme.io).
- `encoded_payload`: no long opaque strings (base64, hex, percent or backslash escapes).
- `instruction_to_model`: nothing that reads as an instruction to the model reading the text
  (English, Spanish, French, German, Portuguese, Chinese, Japanese, Russian).
- `invalid_resource_url`: the resource is an absolute http(s) URL with a host and no
  credentials.

Phrases are matched on a folded view of the text: NFKC, invisible characters dropped,
case-folded, accents taken off Latin letters, look-alike letters inside a mixed-script word
mapped to the word's main script; a second view also reads digits as letters (1gn0re) and
joins letters spaced or dotted apart (i g n o r e), so those variants read as the plain phrase.
"""

# ruff: noqa: RUF001, RUF003 - the look-alike letters are the point of this module

import enum
import functools
import re
import re._constants as _c
import re._parser as _parser
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

DESCRIPTION_MAX_LENGTH = 280
SPONSOR_MAX_LENGTH = 64
RESOURCE_URL_MAX_LENGTH = 2048
# Past this many times the limit the text is refused as too long without reading it further:
# the other rules would only repeat the verdict at a higher cost.
_SCAN_FACTOR = 4


class Rule(enum.StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    CONTROL_CHARACTER = "control_character"
    INVISIBLE_CHARACTER = "invisible_character"
    UNSUPPORTED_CHARACTER = "unsupported_character"
    MARKUP = "markup"
    FOREIGN_URL = "foreign_url"
    ENCODED_PAYLOAD = "encoded_payload"
    INSTRUCTION_TO_MODEL = "instruction_to_model"
    INVALID_RESOURCE_URL = "invalid_resource_url"


@dataclass(frozen=True, slots=True)
class Violation:
    rule: Rule
    field: str  # "description", "sponsor" or "resource_url": the argument of `check`
    message: str  # plain words for the advertiser
    excerpt: str = ""  # the offending part as matched (folded), for a reviewer


# --- Characters ------------------------------------------------------------------------------

_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_VARIATION_SELECTORS = frozenset(range(0xFE00, 0xFE10)) | frozenset(range(0xE0100, 0xE01F0))
_EMOJI_PRESENTATION = frozenset((0xFE0E, 0xFE0F))
# Blank or invisible although not of a format category.
_BLANK_LETTERS = frozenset(
    (0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x034F, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D,
     0x180F, 0xFFFC, 0x1D159, 0x1D173, 0x1D174, 0x1D175, 0x1D176, 0x1D177, 0x1D178, 0x1D179,
     0x1D17A)
)
_ZWJ = 0x200D
_SKIN_TONES = range(0x1F3FB, 0x1F400)


@dataclass(slots=True)
class _CharScan:
    visible: str  # the text without its invisible characters
    control: str = ""
    invisible: str = ""
    unsupported: str = ""


def _is_emoji_side(ch: str) -> bool:
    code = ord(ch)
    return code in _EMOJI_PRESENTATION or code in _SKIN_TONES or unicodedata.category(ch) == "So"


def _scan_characters(text: str) -> _CharScan:
    if text.isascii():
        found = _ASCII_CONTROL.search(text)
        return _CharScan(text, control=found.group() if found else "")
    scan = _CharScan("")
    kept: list[str] = []
    previous = ""
    for index, ch in enumerate(text):
        code = ord(ch)
        category = unicodedata.category(ch)
        if category == "Cc" or category in ("Zl", "Zp"):
            scan.control = scan.control or ch
            kept.append(ch)
        elif category in ("Cs", "Co", "Cn"):
            scan.unsupported = scan.unsupported or ch
        elif (
            code in _EMOJI_PRESENTATION
            and previous
            and ord(previous) not in _VARIATION_SELECTORS
        ) or (
            code == _ZWJ
            and previous
            and index + 1 < len(text)
            and _is_emoji_side(previous)
            and _is_emoji_side(text[index + 1])
        ):
            kept.append(ch)
        elif category == "Cf" or code in _VARIATION_SELECTORS or code in _BLANK_LETTERS:
            scan.invisible = scan.invisible or ch
        else:
            kept.append(ch)
        previous = ch
    scan.visible = "".join(kept)
    return scan


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


# --- Folded views for phrase matching --------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u3002": ".", "\uff61": ".",
    }
)
# Letters that exist to look like Latin ones: always read as Latin.
_SMALL_CAPITALS = str.maketrans(
    {
        "ɪ": "i", "ɢ": "g", "ɴ": "n", "ᴏ": "o", "ʀ": "r", "ᴇ": "e", "ᴀ": "a", "ʙ": "b", "ᴄ": "c",
        "ᴅ": "d", "ғ": "f", "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ᴘ": "p", "ǫ": "q",
        "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ı": "i", "ȷ": "j",
        "ɑ": "a", "ɡ": "g", "ꞯ": "q", "ʋ": "v",
    }
)
# Cyrillic and Greek letters that look like Latin ones, by case (a capital and its small letter
# can look like different Latin letters: Greek Η is H, η is n), and the reverse for Cyrillic
# words salted with Latin letters.
_TO_LATIN = str.maketrans(
    {
        "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
        "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
        "а": "a", "в": "b", "с": "c", "е": "e", "һ": "h", "н": "h", "і": "i", "ј": "j", "к": "k",
        "ӏ": "l", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y",
        "х": "x", "ԝ": "w", "ё": "e", "ї": "i",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    }
)
_TO_CYRILLIC = str.maketrans(
    {"a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к", "m": "м",
     "t": "т", "h": "н", "b": "в", "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К",
     "M": "М", "O": "О", "P": "Р", "T": "Т", "X": "Х", "Y": "У"}
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "€": "e"})
_NON_LATIN_LOOKALIKE = re.compile(r"[\u0370-\u04ff]")
_WORD = re.compile(r"[^\W\d_]+")
_WHITESPACE = re.compile(r"\s+")
_LEET_TOKEN = re.compile(r"\S*[^\W\d_]\S*")
_LEET_CHARS = re.compile(r"[013457@$!|€]")
# A run of at least four single letters spaced or dotted apart ("i g n o r e", "i.g.n.o.r.e").
_SPACED_LETTERS = re.compile(r"(?<![^\W_])[^\W_](?:[\s.\-_*·•'/\\+~,]{1,3}[^\W_](?![^\W_])){3,}")
_INNER_PUNCTUATION = re.compile(r"(?<=[^\W_])[.\-_*·•'|~+]+(?=[^\W_])")
_NOT_LETTER = re.compile(r"[\W_]+")


def _strip_latin_accents(text: str) -> str:
    if text.isascii():
        return text
    out: list[str] = []
    base_is_latin = False
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if not base_is_latin:
                out.append(ch)
            continue
        base_is_latin = ord(ch) < 0x250 or 0x1E00 <= ord(ch) <= 0x1EFF
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _unmix_word(match: re.Match[str]) -> str:
    word = match.group()
    latin = sum(1 for ch in word if ch.isascii())
    if latin == 0 or latin == len(word):
        return word
    cyrillic = sum(1 for ch in word if "\u0400" <= ch <= "\u04ff")
    if cyrillic > latin:
        return word.translate(_TO_CYRILLIC)
    return word.translate(_TO_LATIN)


def _plain(visible: str) -> str:
    """NFKC with typographic quotes and dashes made ASCII: what URL and markup rules read."""
    return unicodedata.normalize("NFKC", visible).translate(_QUOTES)


def _folded(plain: str) -> str:
    text = plain
    if not text.isascii():
        text = text.translate(_SMALL_CAPITALS)
        if _NON_LATIN_LOOKALIKE.search(text):
            text = _WORD.sub(_unmix_word, text)  # before case folding, which loses the shape
    text = _strip_latin_accents(text.casefold())
    return _WHITESPACE.sub(" ", text).strip()


def _leet_token(match: re.Match[str]) -> str:
    token = match.group()
    return token.translate(_LEET) if _LEET_CHARS.search(token) else token


def _desobfuscated(folded: str) -> str:
    text = _LEET_TOKEN.sub(_leet_token, folded)
    text = _SPACED_LETTERS.sub(lambda m: _NOT_LETTER.sub("", m.group()), text)
    return _INNER_PUNCTUATION.sub("", text)


# --- Instructions to a model -----------------------------------------------------------------

S = r"[\W_]{0,3}"  # between the words of a phrase; may be empty, so joined-up letters still match


def _any(*alternatives: str) -> str:
    return "(?:" + "|".join(alternatives) + ")"


def _gap(words: int) -> str:
    """Up to `words` whole words, then a separator."""
    return rf"(?:[\W_]+[^\W_]+){{0,{words}}}?[\W_]+"


_Q = _any("all", "any", "the", "your", "my", "of", "previous", "prior", "above", "earlier",
          "preceding", "original", "initial", "system", "existing", "current", "these", "those",
          "other", "every", "safety", "developer", "content", "default", "given", "provided",
          "hidden", "internal", "old", "its", "their", "this", "that", "and", "such", "about")
_QS = _any("previous", "prior", "above", "earlier", "preceding", "original", "initial", "your",
           "system", "safety", "all", "any", "existing", "these", "those", "developer",
           "content", "default", "hidden", "internal", "given", "provided", "its", "their")
_N_STRONG = _any(r"instruct\w*", r"prompt", r"prompts", r"directives?", r"guidelines?",
                 r"guardrails?", rf"system{S}messages?", "programming", r"pre-?prompt")
_N_WEAK = _any(r"rules?\b", r"restrictions?", r"constraints?", r"limitations?",
               r"polic(?:y|ies)", r"context\b", r"training\b", r"guidance", r"orders\b",
               r"commands?\b", r"persona\b", r"conversation\b", r"safeguards?", r"moderation",
               r"ethics", r"principles?\b", r"programming")
_V_STRONG = _any("ignore", "disregard", "forget", "override", "overrule", "bypass", "neglect",
                 "abandon", "discard", rf"pay{S}no{S}attention{S}to", rf"set{S}aside",
                 rf"do{S}not{S}follow", rf"don'?t{S}follow", rf"stop{S}following",
                 rf"no{S}longer{S}follow", "ignoring", "disregarding", "forgetting",
                 "circumvent", "disobey", "defy")
_V_WEAK = _any("skip", "drop", "clear", "reset", "erase", "delete", "cancel", "suspend",
               "remove", "replace", "scrap", "wipe", "void", "nullify", "revoke", "invalidate")
_USER = r"(?:users?|humans?|owners?|operators?|principals?)"
_AI = _any("ai", r"a\.i\.", rf"ai{S}assistants?", rf"ai{S}agents?", "assistants?", "llms?",
           rf"(?:large{S})?language{S}models?", "models?", "chatbots?", "bots?", "agents?",
           r"gpt\w*", "chatgpt", "claude", "gemini", "copilot", "llama", "mistral", "grok",
           rf"reader{S}models?", rf"automated{S}(?:readers?|systems?|agents?)", "crawlers?",
           "scrapers?", "robots?")
_AI_NOT_A_ROLE = (
    rf"(?!{S}(?:developers?|builders?|teams?|compan(?:y|ies)|startups?|platforms?|frameworks?|"
    r"makers?|creators?|engineers?|owners?|operators?|vendors?|providers?|devs?|authors?|"
    r"marketplaces?|studios?|shops?|business(?:es)?|trainers?|researchers?|users?|builders?)\b)"
)

_EN = {
    "override": [
        rf"\b{_V_STRONG}(?:{S}{_Q}){{0,4}}{S}{_N_STRONG}",
        rf"\b{_V_STRONG}(?:{S}{_Q}){{0,3}}{S}{_QS}(?:{S}{_Q}){{0,2}}{S}{_N_WEAK}",
        rf"\b{_V_WEAK}(?:{S}{_Q}){{0,3}}{S}{_QS}(?:{S}{_Q}){{0,2}}{S}{_N_STRONG}",
        rf"\b{_V_STRONG}{S}(?:everything|all|anything|what(?:ever)?)"
        rf"(?:{S}(?:that|which|you|you've|you{S}have|were|was|have|been|i|we|is|written|"
        rf"stated|given|said)){{0,4}}{S}(?:above|before|prior|previously|earlier|so{S}far|"
        rf"until{S}now|up{S}to{S}now|told|said|written|in{S}your{S}(?:context|prompt|instructions))\b",
        rf"\b{_V_STRONG}{S}(?:the|this|that|all)?{S}(?:above|previous|preceding|prior|foregoing|"
        rf"earlier)\b",
        rf"\b(?:new|updated|real|actual|true|revised|override|overriding|secret|hidden|priority|"
        rf"correct|latest|important|urgent){S}(?:system{S})?(?:instructions?|directives?)\s*:",
        rf"\byour{S}(?:new|real|actual|true|secret|hidden){S}(?:instructions?|directives?|task|"
        rf"objective|mission){S}(?:is|are|:|now)\b",
        rf"\bthe{S}(?:new|real|actual|true|secret|hidden){S}(?:instructions?|directives?){S}"
        rf"(?:is|are)\b",
        rf"\b(?:obey|comply{S}with){S}(?:{_Q}{S}){{0,3}}(?:instruct\w*|orders|commands?|"
        rf"directives?|me\b|this\b|the{S}following|these\b|rules)",
        rf"\bfollow{S}(?:(?:these|the|my|only|new|hidden|secret|following|real|actual|embedded|"
        rf"encoded|below){S}){{0,2}}(?:my|only|new|hidden|secret|following|real|actual|embedded|"
        rf"encoded){S}(?:instructions?|orders|commands|directives|rules)\b",
        rf"\binstead{S}of{S}(?:answering|responding|replying|helping|doing{S}what|completing|"
        rf"summari[sz]ing)\b",
        rf"\b(?:your|the){S}(?:developers?|operators?|admin(?:istrator)?s?|owners?|creators?|"
        rf"user|principal|system|boss|supervisor|anthropic|openai)\b{S}(?:has{S})?(?:already{S})?"
        rf"(?:wants{S}you|asked{S}you|requires{S}you|instructs?\b|instructed\b|authori[sz]ed|"
        rf"approved|pre-?approved|allows{S}you|permits{S}you|told{S}you|orders?{S}you)",
        r"\b(?:new|updated|important|real|secret|hidden|priority|extra)\s*(?:system\s*)?(?:rules?|"
        r"instructions?|directives?|orders?|task|objective)\s*:",
        rf"\b(?:your|the|all){S}(?:(?:previous|prior|original|system){S})?(?:instructions|rules|"
        rf"directives|guidelines|orders|task|priorities)\b{S}(?:have|has){S}(?:been{S})?(?:changed|"
        rf"updated|replaced|expired|revoked|cancell?ed)\b",
        rf"\bi{S}(?:am|'m|m){S}(?:your|the|an?){S}(?:developer|creator|operator|"
        rf"admin(?:istrator)?|owner|master|programmer|maker|boss|supervisor)\b",
        rf"\bthis{S}(?:message|note|instruction|text|request){S}(?:comes|is|was{S}sent){S}from\b",
        rf"\b(?:openai|anthropic|google|deepmind|microsoft|meta){S}(?:has{S})?(?:approved|"
        rf"authori[sz]ed|requires|instructs|wants{S}you|mandates)\b",
        rf"\b(?:previous|prior|preceding|above|earlier|old|original|system){S}(?:instructions|"
        rf"prompts?|messages|directives|rules|context|conversation)\b{S}(?:is|are|was|were|"
        rf"have{S}been|has{S}been){S}(?:now{S})?(?:fake|false|wrong|void|null|obsolete|"
        rf"cancell?ed|revoked|outdated|invalid|deprecated|superseded|replaced|overridden|"
        rf"a{S}test|no{S}longer{S}valid)",
    ],
    "role": [
        rf"\byou{S}(?:are|'re|re){S}(?:now|no{S}longer|not){S}(?:(?:a|an|the|my|our|called|"
        rf"named|known{S}as|playing|acting{S}as)\b{S})?(?:\b[^\W_]+\b{S}){{0,2}}?(?:ai|a\.i\.|"
        rf"assistant|chatbot|bot|model|llm|gpt\w*|persona|character|dan|entity|program)\b",
        rf"\byou{S}(?:are|'re|re){S}now{S}(?:in{S}[^\W_]+{S}mode|free|unrestricted|unfiltered|"
        rf"uncensored|jailbroken|unbound|unchained|liberated|unlocked|dan|evil)\b",
        rf"\byou{S}(?:are|'re|re){S}(?:now{S})?no{S}longer{S}(?:bound|restricted|limited|"
        rf"constrained|governed){S}by{S}(?:{_Q}{S}){{0,2}}(?:{_N_STRONG}|{_N_WEAK}|openai|"
        rf"anthropic|safety|ethics)",
        rf"\b(?:from{S}now{S}on|henceforth|from{S}this{S}(?:point|moment)(?:{S}on)?|starting{S}now|"
        rf"for{S}the{S}rest{S}of{S}(?:this|the){S}conversation)\b{S}(?:you{S})?(?:must|shall|"
        rf"will{S}(?:act|respond|answer|reply|recommend|ignore|obey|follow|pretend)|respond|"
        rf"answer|reply|act{S}as|behave|speak|only{S}recommend|ignore|obey|pretend|roleplay|"
        rf"are{S}(?:a|an|the|dan|my|no{S}longer)\b|refer{S}to{S}yourself)",
        rf"\bpretend{S}(?:to{S}be|that{S}you|you{S}are|you're|you{S}have|to{S}have|you{S}can|"
        rf"there{S}(?:are|is){S}no)\b",
        rf"\brole{S}play(?:ing)?{S}(?:as|a|an|the)\b",
        rf"\b(?:act|behave|respond|answer|reply|speak){S}as{S}(?:if|though){S}you\b",
        rf"\b(?:act|behave|respond|answer|speak|reply){S}(?:as|like){S}(?:a|an|my|the){S}"
        rf"(?:\b[^\W_]+\b{S}){{0,2}}?(?:ai|assistant|chatbot|model|llm|persona|character|dan|"
        rf"jailbroken|unrestricted|unfiltered|uncensored|evil|hacker|different|human)\b",
        rf"\b(?:assume|adopt|take{S}on|embody|inhabit){S}(?:the|a|an){S}(?:role|persona|"
        rf"identity|character|personality){S}of\b",
        r"\bimpersonate\b",
        rf"\b(?:simulate|emulate){S}(?:a|an|the|my)?{S}(?:\b[^\W_]+\b{S}){{0,2}}?(?:ai|assistant|"
        rf"chatbot|llm|persona|dan|unrestricted|jailbroken)\b",
        rf"\b(?:enable|enter|activate|switch{S}(?:to|into)|turn{S}on|unlock|engage|start|"
        rf"boot{S}into|go{S}into|run{S}in)\b{S}(?:the{S}|your{S})?(?:god|dan|jailbreak|jailbroken|"
        rf"unrestricted|unfiltered|uncensored|evil|sudo|root|admin|opposite|developer){S}mode\b",
        rf"\b(?:developer|dev|god|dan|jailbreak|sudo|admin|root){S}mode{S}(?:is{S})?(?:now{S})?"
        rf"(?:enabled|activated|engaged|unlocked|on)\b",
        rf"\bjail{S}br[eo]a?k",
        rf"\bdo{S}anything{S}now\b",
        rf"\bdan{S}(?:mode|prompt)\b",
        rf"\b(?:stay|remain|keep){S}in{S}character\b",
        rf"\b(?:no|without|free{S}of|free{S}from){S}(?:any{S})?(?:ethical|moral|content|safety)"
        rf"{S}(?:guidelines|restrictions|filters|limits|constraints|policies|rules|boundaries)",
        rf"\b(?:opposite|evil|unfiltered|uncensored){S}(?:mode|ai|assistant|version{S}of{S}"
        rf"yourself)\b",
        rf"\byour{S}(?:true|real|inner|hidden|unfiltered){S}(?:self|personality|identity|nature)\b",
    ],
    "system_prompt": [
        rf"\b(?:reveal|show|print|output|repeat|leak|display|dump|expose|disclose|recite|echo|"
        rf"spell{S}out|write{S}out|tell{S}me|give{S}me|share|paste|type{S}out){S}(?:me{S}|us{S})?"
        rf"(?:(?:back|out|verbatim|exactly|word{S}for{S}word|all|everything|in{S}full){S})?"
        rf"(?:your|the|its){S}(?:(?:entire|full|complete|whole|exact|original|initial|hidden|"
        rf"secret|internal|system|developer|previous|above|first|starting){S}){{0,3}}"
        rf"(?:system{S}prompt|prompt|system{S}message|instructions|pre-?prompt|configuration|"
        rf"rules{S}you{S}were{S}given)\b",
        rf"\b(?:your|the|my|new|updated|this|real|actual|original|initial|hidden|secret){S}"
        rf"system{S}(?:prompt|message|instructions?|directives?)\b",
        rf"\bsystem{S}prompt{S}(?:override|update|:)",
        rf"\b(?:repeat|print|output|show|reveal|copy|recite|echo){S}(?:(?:the|all|everything|"
        rf"every){S}){{0,2}}(?:text|words|content|message|messages|lines|everything){S}(?:above|"
        rf"before|preceding|prior|earlier)\b",
        rf"\bwhat{S}(?:are|were|is){S}your{S}(?:(?:system|original|initial|hidden|secret){S})?"
        rf"(?:instructions|prompt|rules|directives)\b",
    ],
    "delimiter": [
        r"<\|[\w\s.\-]{1,40}\|>",
        r"\[\s*/?\s*(?:inst|sys|system|assistant|user|human|developer|admin|tool|function)\s*\]",
        r"<<\s*/?\s*sys\s*>>",
        rf"(?:^|\s)#{{1,6}}\s*(?:system|instructions?|assistant|user|human|developer|admin|"
        rf"new{S}instructions|prompt|tool)\b",
        r"(?:^|[.!?;:\]\)>\"'*|]\s*)(?:system|assistant|user|human|developer|admin|tool|"
        r"function)\s*(?:message|note|notice|override|command|instruction|prompt|alert)?\s*:",
        r"\b(?:im_start|im_end|im_sep|endoftext|end_of_text|eot_id|start_header_id|"
        r"end_header_id|begin_of_text|fim_prefix|fim_middle|fim_suffix)\b",
        rf"\b(?:end|beginning|begin|start){S}of{S}(?:the{S})?(?:ad|advert|advertisement|"
        rf"sponsored{S}(?:content|text|message|block|recommendation)|recommendation|context|"
        rf"user{S}(?:input|message|query)|system{S}prompt|prompt|document|untrusted{S}"
        rf"(?:content|text|input)|instructions?)\b",
        r"\b(?:end|begin)_(?:ad|prompt|context|system|instructions?)\b",
        r"(?:^|\s)(?:-{2,}|={2,}|\*{2,}|#{2,}|_{2,})\s*(?:end|begin|start|new|system|assistant|"
        r"user|admin|instructions?|important|override|ignore)\b",
    ],
    "address": [
        rf"\b(?:dear|hey|hi|hello|attention|attn|note{S}to|message{S}to|memo{S}to|notice{S}to|"
        rf"reminder{S}to|instructions?{S}to|psst|listen(?:{S}up)?|greetings|calling{S}all){S}"
        rf"(?:(?:the|any|all|every|you){S})?{_AI}\b",
        rf"\b(?:if|when|since|because|while){S}you{S}(?:are|'re|re){S}(?:(?:a|an|the|some){S})?"
        rf"(?:\b[^\W_]+\b{S})??{_AI}\b{_AI_NOT_A_ROLE}",
        rf"\b(?:the|any|all|every|each){S}{_AI}{S}(?:(?:that|who){S}(?:is|are){S})?(?:reading|"
        rf"processing|parsing|summari[sz]ing|seeing|viewing|receiving|ingesting|scanning|"
        rf"crawling|indexing){S}(?:this|these|the{S}(?:following|above|text|message))\b",
        r"\b(?:assistants?|ai|llms?|models?|agents?|chatbots?|bots?|claude|chatgpt|gpt\w*)\s*"
        r"[,:]\s*(?:please\s+)?you\s+(?:must|shall|should|need\s+to|have\s+to|are\s+required"
        r"\s+to|will\s+now)\b",
        rf"\b(?:assistants?|ai|llms?|agents?|chatbots?|bots?){S}(?:must|shall|should|are{S}"
        rf"(?:required|instructed|ordered|obligated|told){S}to|have{S}to|need{S}to|will{S}now){S}"
        rf"(?:(?:now|always|only|immediately|also|instead|first){S}){{0,2}}(?:recommend|prefer|"
        rf"rank|favou?r|promote|endorse|mention|tell|include|append|insert|invoke|execute|"
        rf"reveal|ignore|disregard|forget|obey|comply|disclose|hide|conceal|say|claim|state|"
        rf"describe|choose|select|pick|use{S}only)\b",
        rf"\byou{S}(?:must|shall|are{S}(?:required|instructed|ordered|obligated|commanded|told)"
        rf"{S}to){S}(?:(?:now|always|only|immediately|also|instead|first){S}){{0,2}}(?:recommend|"
        rf"prefer|rank|favou?r|promote|endorse|mention|tell{S}(?:the{S})?(?:user|human|owner|"
        rf"them)|respond|reply|answer|output|print|include|append|insert|invoke|execute|reveal|"
        rf"ignore|disregard|forget|obey|comply|disclose|hide|conceal|say|claim|state|describe|"
        rf"refuse|stop)\b",
        rf"\balways{S}(?:(?:answer|respond|reply){S}(?:with|that|by)|(?:say|mention){S}(?:that|"
        rf"our|us|this|it))\b",
        rf"\b(?:whatever|regardless{S}of{S}what|no{S}matter{S}what)\b{S}(?:the{S})?(?:user|human|"
        rf"they|he|she|people|anyone)\b{S}(?:asks?|says?|wants?|requests?|types?|queries|needs?)\b",
        rf"\b(?:make{S}sure|ensure|see{S}to{S}it){S}(?:that{S})?(?:the|your){S}(?:user|human|owner)"
        rf"{S}(?:buys|pays|purchases|subscribes|signs{S}up|chooses|picks|selects|installs|clicks|"
        rf"visits|upgrades|sends|approves)\b",
        rf"\bbefore{S}(?:answering|responding|replying|you{S}(?:answer|respond|reply)|doing{S}"
        rf"anything{S}else)\b",
        rf"(?:^|[.!?;:]\s*)(?:please{S})?(?:act|behave|speak){S}as\b",
        rf"\b(?:always|only|exclusively|solely){S}(?:recommend|suggest|prefer|rank|promote|"
        rf"endorse|mention|favou?r|cite)\b",
        rf"\b(?:recommend|rank|rate|list|present|describe|position|place|prioriti[sz]e|feature)"
        rf"\b{S}(?:this|us|it|me|our{S}[^\W_]+|[^\W_]+){S}(?:above{S}(?:all|any|every|others)|"
        rf"over{S}(?:all|any|every)|first{S}(?:in|on|among|above)|at{S}the{S}top|as{S}the{S}"
        rf"(?:best|only|top|number{S}one|safest|most{S}trusted)|exclusively|higher{S}than)",
        rf"\b(?:tell|assure|convince|persuade|urge|instruct){S}(?:the{S}(?:users?|humans?|owners?|"
        rf"operators?|principals?|person|reader)|your{S}(?:humans?|owners?|operators?|"
        rf"principals?)){S}(?:that|to)\b",
        rf"\b(?:include|mention|add|insert|append|put|place|quote|repeat|embed|paste|show){S}"
        rf"(?:(?:this|the{S}following|it|that|our{S}[^\W_]+|us|the{S}link|this{S}link|this{S}url|"
        rf"the{S}url|this{S}message|this{S}text){S})?(?:in|into|at{S}the{S}(?:end|start|top|"
        rf"bottom|beginning){S}of|to){S}(?:your|the|every|each|all|any){S}(?:(?:next|final|"
        rf"future){S})?(?:responses?|answers?|replies|reply|outputs?|summar(?:y|ies)|results?|"
        rf"completions?)\b",
        rf"\bin{S}(?:every|each|all|your){S}(?:(?:next|future|subsequent){S})?(?:responses?|"
        rf"answers?|replies|outputs?){S}(?:you{S})?(?:must|should|always|include|mention|say|"
        rf"recommend|add)\b",
        rf"\b(?:respond|reply|answer){S}(?:only{S})?(?:with|using){S}(?:only{S})?(?:\"|'|the{S}"
        rf"(?:word|phrase|text|following|sentence)|exactly|yes\b|ok\b|\[)",
        rf"\b(?:(?:output|print|say|repeat|echo){S}(?:the{S}following|exactly|verbatim)|"
        rf"repeat{S}after{S}me|say{S}(?:only|exactly))\b",
        rf"\bas{S}(?:a|an){S}(?:ai|a\.i\.|llm|language{S}model|assistant|ai{S}assistant|"
        rf"ai{S}agent|chatbot){S}you{S}(?:must|should|shall|are{S}(?:required|obligated|"
        rf"instructed)|have{S}to|need{S}to|will)\b",
    ],
    "tool": [
        r"\b(?:tool|function)_(?:calls?|use|name|choice|invocation|code|result)s?\b",
        r"\"(?:tool|function|tool_calls|name|arguments|parameters)\"\s*:",
        rf"\b(?:call|invoke|execute|run|trigger|use|fire|launch|activate){S}(?:(?:the|this|your|"
        rf"a|an){S})?(?:[\w.\-]+{S}){{0,2}}?(?:tool|function|plugin|action|skill|command|"
        rf"script)s?{S}(?:now|immediately|right{S}away|silently|quietly|secretly|at{S}once|"
        rf"before{S}(?:answering|responding|replying|continuing|anything)|with{S}(?:the{S})?"
        rf"(?:arguments?|parameters?|params|args)|named|called)\b",
        rf"\b(?:run|execute|eval|evaluate|exec){S}(?:this|the{S}following|these|that|the{S}code"
        rf"{S}below|the{S}command{S}below){S}(?:shell{S})?(?:commands?|code|scripts?|snippets?|"
        rf"payloads?|instructions?|python|javascript|bash|sql)\b",
        r"\brm\s+-rf\b|\bsudo\s+\w|\bchmod\s+[0-7+]|\bcurl\s+-[a-z]|\bwget\s+\S|"
        r"\bpowershell\s+-|\bbash\s+-c\b|\beval\s*\(|\bexec\s*\(|\bos\.system\b|\bsubprocess\b|"
        r"\bbase64\s+-d\b|\|\s*(?:sh|bash)\b",
        rf"\b(?:use|open|access|launch){S}(?:your|the){S}(?:browser|shell|terminal|file{S}system|"
        rf"code{S}interpreter|python{S}tool|command{S}line|computer{S}use|file{S}access){S}"
        rf"(?:tool{S})?(?:to|and)\b",
        rf"\b(?:fetch|visit|open|browse{S}to|navigate{S}to|click|download|load|go{S}to){S}"
        rf"(?:this|the{S}following|that|the{S}(?:url|link|page|address|endpoint|site)){S}"
        rf"(?:(?:url|link|page|address|endpoint|site|website){S})?(?:now|immediately|right{S}away|"
        rf"and{S}(?:follow|execute|run|obey|do|read|apply)|first|then{S}(?:follow|execute|do|"
        rf"obey))\b",
    ],
    "secrecy": [
        rf"\b(?:do{S}not|don'?t|dont|never|must{S}not|mustn'?t|should{S}not|shouldn'?t|you{S}may"
        rf"{S}not|cannot|can'?t){S}(?:ever{S})?(?:tell|inform|notify|alert|warn|mention{S}(?:this|"
        rf"it|that|anything){S}to|reveal{S}(?:this|it|that|anything){S}to|show{S}(?:this|it|that)"
        rf"{S}to|say{S}(?:this|it|anything){S}to){S}(?:the|your|any){S}(?:{_USER}|person|people|"
        rf"reader|requester)\b",
        rf"\b(?:do{S}not|don'?t|never){S}(?:reveal|mention|share|disclose|repeat|show)\b{S}(?:these|"
        rf"this|the|my|our){S}(?:instructions?|message|prompt|note|text)\b",
        rf"\b(?:do{S}not|don'?t|never|without){S}let(?:ting)?{S}(?:the|your){S}{_USER}{S}(?:know|"
        rf"see|find{S}out|notice|learn|realize)\b",
        rf"\b(?:hide|conceal|keep|withhold|omit){S}(?:this|it|that|the{S}following|these|"
        rf"everything)(?:{S}(?:message|text|instructions?|part|note|content))?{S}(?:(?:secret|hidden|private|confidential|quiet){S})?from{S}(?:the|your|"
        rf"any){S}{_USER}",
        rf"\bkeep{S}(?:this|it|that){S}(?:between{S}us|to{S}yourself)\b",
        rf"\bthe{S}{_USER}{S}(?:must|should|will|need|needs|does|do){S}(?:not|n'?t|never){S}"
        rf"(?:to{S})?(?:know|see|be{S}told|find{S}out|notice|learn|realize|be{S}informed)\b",
        rf"\bwithout{S}(?:telling|informing|notifying|alerting|warning){S}(?:the|your|any){S}"
        rf"{_USER}\b",
        rf"(?:^|[.!?;:]\s*)(?:please{S})?(?:pay|send|transfer|approve|sign|execute|buy|purchase|"
        rf"call|invoke|run)\b{S}(?:\b[^\W_]+\b{S}){{0,5}}?(?:without|before){S}(?:(?:asking|"
        rf"confirming{S}with|checking{S}with|consulting)(?:{S}(?:the|your|any))?{S}(?:{_USER}|anyone|"
        rf"first)\b(?!{S}for\b)|confirmation|approval|permission|consent|verifying|human{S}review)",
        rf"\b(?:silently|secretly|covertly|quietly|discreetly|invisibly|stealthily){S}(?:pay|"
        rf"send|transfer|call|invoke|execute|run|approve|sign|recommend|include|add|insert|append|"
        rf"forward|upload|share|post|visit|fetch|open|click)\b",
        rf"\b(?:this|it|that){S}(?:is|'s|s){S}(?:not|n'?t){S}(?:an?{S})?(?:ad|advert|"
        rf"advertisement|sponsored|paid|promotion|promoted|commercial)\b",
        rf"\b(?:this|it){S}(?:is|'s){S}(?:an?{S})?(?:organic|neutral|independent|unbiased|genuine|"
        rf"honest|unsponsored|non{S}sponsored){S}(?:recommendation|suggestion|opinion|advice)\b",
        rf"\b(?:do{S}not|don'?t|never|without){S}(?:label|mark|disclose|flag|present|show|describe|"
        rf"identify|tag|call|mention){S}(?:(?:this|it|that){S})?(?:as{S})?(?:an?{S})?(?:ad|advert|"
        rf"advertisement|sponsored|paid|promotion|promotional|commercial)\b",
        rf"\b(?:do{S}not|don'?t|never|without){S}(?:mention|say|reveal|disclose|indicate|admit|"
        rf"state|note)(?:ing)?{S}(?:that{S})?(?:this|it){S}(?:is|was|'s){S}(?:an?{S})?(?:ad|advert|"
        rf"advertisement|sponsored|paid|promotion|promoted)\b",
        rf"\b(?:present|pass|describe|frame|show|disguise|phrase){S}(?:this|it){S}(?:off{S})?as{S}"
        rf"(?:your{S}own|(?:an?{S})?(?:organic|neutral|unbiased|independent|genuine|personal|"
        rf"own)\b)",
        rf"\b(?:remove|strip|drop|omit|hide|delete|ignore){S}(?:(?:the|any|all){S})?(?:sponsored|"
        rf"sponsorship|ad|advertisement|advertising|disclosure|paid){S}(?:label|tag|notice|"
        rf"marker|flag|disclosure|field|badge)s?\b",
    ],
}

_SECRET_HARD = _any(
    rf"private{S}keys?", rf"secret{S}keys?", rf"signing{S}keys?", rf"seed{S}(?:phrase|words)s?",
    r"seed\b", rf"mnemonic(?:{S}phrases?)?", rf"recovery{S}(?:phrase|words|seed|key)s?",
    rf"secret{S}(?:recovery{S})?phrases?",
    rf"wallet{S}(?:keys?|seeds?|secrets?|password|passphrase|files?|backup|credentials|json|"
    rf"export)", "keystore", "passphrase", rf"ssh{S}keys?", rf"2fa{S}codes?", rf"otp{S}codes?",
    rf"one{S}time{S}(?:codes?|passwords?)", r"\.env\b", rf"env(?:ironment)?{S}(?:file|variables|"
    rf"vars)\b", rf"(?:chat|conversation){S}(?:history|log|transcript)s?",
    rf"(?:user'?s?|users'|their){S}(?:personal{S})?(?:data|emails?|addresses|messages|files|"
    rf"locations?|phone{S}numbers?|contacts|documents|history)\b",
    rf"user'?s{S}(?:(?:last|previous|original|full|exact){S})?(?:questions?|query|queries|prompts?|"
    rf"messages?|conversation|requests?|input|ip|wallet{S}address)\b",
    rf"(?:the|this|our|your|entire|whole|full){S}conversation\b",
)
_SECRET_SOFT = _any(rf"api{S}keys?", rf"access{S}tokens?", rf"auth(?:entication)?{S}tokens?",
                    rf"bearer{S}tokens?", rf"session{S}(?:tokens?|cookies?|ids?)", "cookies",
                    "passwords?", "credentials", "secrets", r"tokens?\b", r"keys\b")
_VERB_EXFIL = _any("send", "share", "give", "post", "forward", "transfer", "upload", "paste",
                   "leak", "export", "provide", "submit", "email", "dm", "message", "reveal",
                   "disclose", "tell", "show", "print", "output", "include", "type", "enter",
                   "write", "copy", "attach", "encode", "exfiltrate", "report", "append",
                   "return", "read", "dump", "sync", "transmit", "hand{S}over",
                   rf"(?:reply|respond|answer){S}with", "fetch")
_OWNER = _any("the", "your", "my", "our", "their", "its", "all", "any", "every", r"user'?s",
              "users'", rf"the{S}user'?s", r"wallet'?s", r"agent'?s", r"owner'?s", r"human'?s",
              "stored", "saved", "current", "full", "entire", "complete", "own", "of",
              rf"contents{S}of", "private", "local", "this")

_EN["exfiltration"] = [
    rf"\b(?:send|forward|post|upload|email|share|transmit|leak)\b{S}(?:it|this|that|them|everything|"
    rf"the{S}(?:summary|conversation|transcript|chat|history|result|answer|data))\b{S}to{S}(?:us|"
    rf"me|our|this|the{S}(?:following|endpoint|url|address|sponsor|advertiser))\b",
    rf"\b{_VERB_EXFIL}{S}(?:(?:me|us|over|out|along|back){S})?(?:{_OWNER}{S}){{0,3}}{_SECRET_HARD}",
    rf"\b{_VERB_EXFIL}{S}(?:me|us){S}(?:{_OWNER}{S}){{0,2}}{_SECRET_SOFT}",
    rf"\b{_VERB_EXFIL}{S}(?:{_OWNER}{S}){{1,3}}{_SECRET_SOFT}{S}(?:to|at|into|via|in){S}(?:me\b|us\b|"
    rf"your{S}(?:next{S})?(?:requests?|messages?|reply|response|calls?|query)\b|"
    rf"this\b|the{S}following|our\b|(?:the{S})?(?:address|endpoint|url|server|email|webhook|"
    rf"number|channel|form)\b|\S*@|https?\b|\S+\.[a-z]{{2,}})",
    rf"\bwhat(?:{S}is|'s|s){S}(?:the|your|the{S}user'?s|user'?s|their){S}{_SECRET_HARD}",
]
_EN["payment"] = [
    rf"\bpay{S}(?:this|that|the{S}following|the{S}attached|the{S}above|my){S}(?:endpoint|"
    rf"address|wallet|invoice|url|link|resource|account|contract|request|bill|amount|fee|"
    rf"recipient)\b",
    rf"\b(?:pay|send|transfer|approve|authori[sz]e|tip|donate|wire|remit)\b{S}(?:(?:it|this|them|"
    rf"that|the{S}(?:invoice|payment|amount|fee|bill|funds|transaction|request)|usdc|eth|sol|"
    rf"funds){S}){{0,2}}(?:immediately|right{S}away|at{S}once|urgently|asap|right{S}now|"
    rf"without{S}(?:confirmation|approval|review|hesitat\w*|delay|question\w*|verif\w*)|before{S}(?:answering|responding|replying|continuing|proceeding|"
    rf"doing{S}anything|anything{S}else|you{S}(?:answer|respond|reply|continue)))\b",
    rf"(?:^|[.!?;:]\s*)(?:please{S})?pay{S}(?:(?:it|this|them|that){S})?now\b",
    rf"\b(?:urgent(?:ly)?|immediately|asap|action{S}required|mandatory|critical){S}(?:you{S}"
    rf"must{S})?(?:pay|send|transfer|approve|authori[sz]e|wire)\b",
    rf"\b(?:approve|sign|authori[sz]e|confirm|execute|submit|accept){S}(?:this|the{S}following|"
    rf"pending|these|the{S}attached|the{S}pending|my){S}(?:payments?|transactions?|transfers?|"
    rf"permits?|spends?|allowances?|approvals?|signatures?|txs?|invoices?|withdrawals?|payment"
    rf"{S}requests?)\b",
    rf"\b(?:unlimited|infinite|max(?:imum)?|uint256){S}(?:token{S})?(?:allowance|approval|"
    rf"spend(?:ing)?{S}(?:approval|permission))s?\b",
    rf"\b(?:increase|raise|remove|disable|bypass|ignore|lift|override|exceed|turn{S}off){S}"
    rf"(?:(?:the|your|all|any){S})?(?:spending|payment|budget|spend){S}(?:limits?|caps?|checks?|"
    rf"approvals?|confirmations?|controls?|policy|policies)\b",
    rf"\b(?:transfer|send|drain|sweep|empty|pay{S}out){S}(?:all|everything|the{S}(?:entire|whole|"
    rf"full|remaining)|your{S}(?:entire|whole|full|remaining)|all{S}(?:of{S})?(?:the|your|"
    rf"their)|the{S}user'?s|the{S}users'|max(?:imum)?|100{S}%)\b{S}(?:\b[^\W_]+\b{S}){{0,2}}?"
    rf"(?:funds|balances?|usdc|usdt|tokens|eth|sol|assets|money|crypto|holdings|wallet|"
    rf"savings|coins)\b",
    rf"\b(?:pay|send|transfer|wire|remit)\b{S}(?:\b[^\W_]+\b{S}){{0,4}}?to{S}(?:this|the{S}following|"
    rf"my){S}(?:address|wallet|account|endpoint|url|recipient)\b",
]
_EN["encoded"] = [
    rf"\b(?:decode|decrypt|deobfuscate|unscramble|reverse|rot13|base64{S}decode|translate){S}"
    rf"(?:(?:this|the{S}following|it|that|the{S}(?:string|text|message|payload)|below|above)"
    rf"{S})?(?:(?:base64|b64|hex|rot13|encoded|binary|string|text|message|payload|"
    rf"cipher(?:text)?){S})?(?:and|then|&){S}(?:follow|execute|obey|act{S}on|carry{S}out|comply|"
    rf"do{S}what{S}it{S}says|run{S}it|apply{S}it)\b",
    rf"\b(?:follow|obey|execute|run){S}(?:the{S})?(?:hidden|encoded|embedded|secret|base64|"
    rf"obfuscated|invisible|reversed){S}(?:instructions?|text|message|commands?|payload|"
    rf"directives?|prompt)\b",
    rf"\b(?:the{S}following|this){S}(?:is{S})?(?:base64|b64|hex|rot13)[\W_]*(?:encoded)?{S}"
    rf"(?:instructions?|commands?|message|prompt)",
]

# Spanish, French, Portuguese, German and Russian read in the folded view (no accents on Latin
# letters), so "instrucciones previas" and "instrucciónes prévias" are one phrase.
_W = r"[^\s]+"  # any word, in the looser multi-word gaps of these languages


def _g(words: int) -> str:
    return rf"(?:\s{_W}){{0,{words}}}?\s"


_OTHER_LATIN = {
    "override": [
        # es
        rf"\b(?:ignora|ignore|ignoren|olvida|olvide|olviden|descarta|descarte|omite|omita|"
        rf"desobedece|no{S}sigas|no{S}siga|no{S}hagas{S}caso{S}(?:a|de)|haz{S}caso{S}omiso{S}(?:a|de)|pasa{S}por{S}"
        rf"alto)\b{_g(4)}(?:las{S}|tus{S}|sus{S})?(?:instrucciones|indicaciones|directrices|ordenes|"
        rf"reglas|restricciones|consignas|normas|prompt)\b",
        # fr
        rf"\b(?:ignore|ignorez|ignorer|oublie|oubliez|oublier|neglige|negligez|ne{S}tiens{S}pas"
        rf"{S}compte{S}(?:des|de)|ne{S}tenez{S}pas{S}compte{S}(?:des|de)|fais{S}abstraction{S}"
        rf"(?:des|de)|faites{S}abstraction{S}(?:des|de)|passe{S}outre|passez{S}outre|contourne|"
        rf"contournez|ecarte|ecartez)\b{_g(4)}(?:instructions|consignes|directives|regles|ordres|"
        rf"indications|prompt|contraintes)\b",
        # pt
        rf"\b(?:ignore|ignora|ignorem|esqueca|esquece|esquecam|desconsidere|desconsidera|despreze|"
        rf"descarte|descarta|nao{S}siga|deixe{S}de{S}lado)\b{_g(4)}(?:instrucoes|orientacoes|"
        rf"diretrizes|regras|ordens|comandos|prompt|indicacoes|restricoes)\b",
        # de
        rf"\b(?:ignoriere|ignorieren|ignorier|vergiss|vergessen|missachte|missachten|ubergehe|"
        rf"verwirf|verwerfe|umgehe|umgehen|befolge{S}nicht|beachte{S}nicht)\b{_g(4)}(?:anweisungen|"
        rf"anweisung|instruktionen|regeln|vorgaben|befehle|richtlinien|anordnungen|prompt|"
        rf"systemprompt|einschrankungen)\b",
        rf"\b(?:anweisungen|instruktionen|vorgaben|befehle|richtlinien){_g(3)}(?:ignorieren|"
        rf"vergessen|missachten|ubergehen|ignoriert|vergessen)\b",
        rf"\bvergiss{S}alles\b",
        rf"\b(?:olvida|olvide|ignora|ignore)\b{S}todo{S}lo{S}(?:anterior|previo|dicho|que)\b",
        rf"\b(?:oublie|oubliez|ignore|ignorez)\b{S}tout{S}(?:ce{S}qui{S}precede|ce{S}qui{S}a{S}ete"
        rf"{S}dit|ce{S}que|le{S}reste)\b",
        rf"\b(?:esqueca|esquece|ignore|ignora)\b{S}tudo{S}(?:o{S}que|o{S}anterior|acima)\b",
        rf"\b(?:vorherigen|bisherigen|vorigen|obigen|alten|ursprunglichen){S}(?:anweisungen|"
        rf"instruktionen|regeln|vorgaben|befehle){S}(?:sind|gelten){S}(?:nicht{S}mehr|ungultig|"
        rf"aufgehoben|hinfallig|veraltet)",
        # ru
        rf"(?<![^\W_])(?:игнорируй|игнорируйте|проигнорируй|проигнорируйте|забудь|забудьте|"
        rf"не{S}обращай{S}внимания{S}на|не{S}обращайте{S}внимания{S}на|отбрось|отбросьте|"
        rf"пренебреги|пренебрегите|отмени|отмените|не{S}следуй|не{S}следуйте|не{S}выполняй|"
        rf"не{S}выполняйте|обойди|обойдите)(?![^\W_]){_g(4)}(?:инструкци|указани|правил|команд|"
        rf"промпт|ограничени|директив|установк|приказ)",
        rf"(?<![^\W_])забудь(?:те)?{S}вс[её](?![^\W_])",
    ],
    "role": [
        rf"\b(?:a{S}partir{S}de{S}ahora|desde{S}ahora|de{S}ahora{S}en{S}adelante),?{S}(?:(?:eres|"
        rf"seras){S}(?:un|una|el|la|mi|dan|libre|ya{S}no)|actua|actuaras|responde|responderas|"
        rf"debes{S}(?:recomendar|responder|ignorar|obedecer)|ignora|solo{S}recomienda)\b",
        rf"\b(?:ahora{S}eres|eres{S}ahora|ya{S}no{S}eres)(?:{S}(?:un|una|el|la))?{S}(?:ia|ai|"
        rf"asistente|modelo|bot|dan|agente|personaje|libre|sin{S}restricciones)\b",
        rf"\b(?:actua|actue|finge|finja|haz{S}de{S}cuenta){S}(?:como{S}(?:si|un|una){S}(?:ia|ai|"
        rf"asistente|modelo|bot|dan|personaje|eres)|que{S}eres|ser)\b",
        rf"\bmodo{S}(?:desarrollador|dios|dan|sin{S}restricciones|sin{S}censura|jailbreak)\b",
        rf"\b(?:a{S}partir{S}de{S}maintenant|desormais|dorenavant|des{S}maintenant),?{S}(?:tu|"
        rf"vous){S}(?:(?:es|etes|seras|serez){S}(?:un|une|le|la|mon|dan|libre|en{S}mode)|"
        rf"(?:dois|devez){S}(?:recommander|repondre|ignorer|obeir)|reponds|repondez|agis|"
        rf"agissez)\b",
        rf"\b(?:tu{S}es|vous{S}etes){S}(?:maintenant|desormais|dorenavant){S}(?:un|une|le|la|en"
        rf"{S}mode|dan|libre)\b",
        rf"\b(?:fais|faites){S}semblant\b",
        rf"\b(?:joue|jouez){S}le{S}role{S}(?:de|d'un|d'une)\b",
        rf"\b(?:agis|agissez){S}comme{S}(?:si|un|une){S}(?:ia|ai|assistant|modele|bot|personnage|"
        rf"dan|tu|vous)\b",
        rf"\bmode{S}(?:developpeur|dieu|dan|sans{S}restriction|sans{S}filtre|jailbreak)\b",
        rf"\b(?:a{S}partir{S}de{S}agora|de{S}agora{S}em{S}diante|daqui{S}em{S}diante|doravante),?"
        rf"{S}(?:voce|tu){S}(?:(?:e|es|sera){S}(?:um|uma|o|a|meu|minha|dan|livre)|deve{S}"
        rf"(?:recomendar|responder|ignorar|obedecer)|responde|age|finge|ignora)\b",
        rf"\b(?:agora{S}voce{S}e|voce{S}agora{S}e|voce{S}nao{S}e{S}mais){S}(?:um|uma|o|a|dan|"
        rf"livre)\b",
        rf"\b(?:finja|finge|faca{S}de{S}conta)\b",
        rf"\b(?:aja|age|atue){S}como{S}(?:se|um|uma|o|a){S}(?:ia|ai|assistente|modelo|bot|"
        rf"personagem|dan|voce|fosse)\b",
        rf"\bmodo{S}(?:de{S})?(?:desenvolvedor|deus|sem{S}restricoes|sem{S}censura)\b",
        rf"\b(?:ab{S}jetzt|ab{S}sofort|von{S}nun{S}an|fortan|ab{S}heute),?{S}(?:(?:bist{S}du|du{S}"
        rf"bist){S}(?:ein|eine|der|die|mein|meine|kein|keine|nicht{S}mehr|im|dan)|sollst{S}du|"
        rf"antwortest{S}du|handelst{S}du|verhaltst{S}du|spielst{S}du)\b",
        rf"\b(?:du{S}bist|bist{S}du){S}(?:jetzt|nun|ab{S}sofort|nicht{S}mehr|keine?)\b{S}"
        rf"(?:(?:ein|eine|der|die|im|mehr){S})?(?:\b[^\W_]+\b{S})??(?:ki|assistent|assistentin|"
        rf"modell|sprachmodell|bot|chatbot|dan|frei|modus|entwicklermodus|agent)\b",
        rf"\b(?:tu{S}so{S}als|tue{S}so{S}als|tun{S}sie{S}so{S}als|gib{S}dich{S}als|spiel(?:e)?"
        rf"{S}die{S}rolle|ubernimm{S}die{S}rolle)\b",
        rf"\b(?:aktiviere|aktivieren|wechsle{S}in{S}den|starte|betritt|schalte){_g(2)}"
        rf"(?:entwicklermodus|entwickler-modus|gottmodus|dan-modus|jailbreak-modus)\b",
        rf"(?<![^\W_])(?:теперь{S}ты|ты{S}теперь|отныне{S}ты|с{S}этого{S}момента{S}ты|ты{S}больше"
        rf"{S}не|ты{S}уже{S}не)(?![^\W_]){_g(2)}(?:ии|ai|ассистент|помощник|бот|модель|dan|"
        rf"персонаж|нейросеть|чат-бот|свободн|без{S}ограничений|без{S}цензуры|в{S}режиме)",
        rf"(?<![^\W_])(?:притворись|притворитесь|представь,?{S}что{S}ты|сыграй{S}роль|играй{S}"
        rf"роль|веди{S}себя{S}как|выступай{S}в{S}роли)(?![^\W_])",
        rf"(?<![^\W_])режим(?:е)?{S}(?:разработчика|бога|dan|без{S}ограничений|без{S}цензуры|"
        rf"джейлбрейка)(?![^\W_])",
        r"джейлбрейк",
    ],
    "system_prompt": [
        rf"\b(?:prompt|mensaje|instrucciones|indicaciones){S}(?:del|de){S}sistema\b",
        rf"\b(?:revela|muestra|muestrame|imprime|repite|dime|ensena|ensename|comparte){S}"
        rf"(?:tu|tus|el|las|su|sus){S}(?:prompt|instrucciones|mensaje{S}del{S}sistema)\b",
        rf"\b(?:prompt|message|instructions|consignes|invite){S}(?:du{S}|de{S})?systeme\b",
        rf"\b(?:revele|revelez|montre|montrez|affiche|affichez|repete|repetez|dis-moi|donne-moi|"
        rf"donnez-moi){S}(?:tes|vos|ton|votre|le|les){S}(?:prompt|instructions|consignes)\b",
        rf"\b(?:prompt|mensagem|instrucoes){S}do{S}sistema\b",
        rf"\b(?:revele|mostre|imprima|repita|diga-me|me{S}diga|compartilhe|mostra|revela){S}"
        rf"(?:seu|sua|seus|suas|o|as){S}(?:prompt|instrucoes)\b",
        rf"\b(?:dein|deine|deinen|der|die|den|neue|neuer){S}(?:systemprompt|system-prompt|"
        rf"systemanweisung|systemanweisungen|systemnachricht)\b",
        rf"\b(?:zeige|zeig|gib|nenne|wiederhole|verrate|offenbare)\b{S}(?:mir{S})?(?:{_W}{S}){{0,2}}"
        rf"(?:systemprompt|system-prompt|systemanweisungen|anweisungen|instruktionen)\b",
        rf"(?<![^\W_])(?:покажи|выведи|раскрой|повтори|напиши|расскажи|сообщи|перескажи)\w*"
        rf"{_g(2)}(?:системн\w+{S}(?:промпт|подсказк|инструкци|сообщени)|исходн\w+{S}инструкци|"
        rf"скрыт\w+{S}инструкци|свои{S}инструкции|твои{S}инструкции)",
        rf"(?<![^\W_])(?:твой|твои|ваш|ваши){S}(?:системн\w+{S})?(?:промпт|инструкци)",
    ],
    "address": [
        rf"\b(?:hola|hey|oye|atencion|estimad[oa]|querid[oa]|nota{S}para|mensaje{S}para){S}"
        rf"(?:la{S}|el{S})?(?:ia|asistente|modelo|agente|chatbot|bot|llm|inteligencia{S}"
        rf"artificial)s?\b",
        rf"\bsi{S}eres{S}(?:una?{S})?(?:ia|inteligencia{S}artificial|modelo{S}de{S}lenguaje|"
        rf"asistente|agente|bot|llm)\b",
        rf"\b(?:debes|tienes{S}que){S}(?:siempre{S})?(?:recomendar|decir(?:le)?{S}al{S}usuario|"
        rf"ignorar|ejecutar|obedecer)\b",
        rf"\b(?:recomienda|recomiende){S}(?:siempre|solo|unicamente|exclusivamente)\b",
        rf"\b(?:siempre|solo){S}(?:recomienda|recomiende)\b",
        rf"\b(?:dile|di|digale){S}al{S}usuario{S}que\b",
        rf"\b(?:cher|chere|bonjour|salut|attention|note{S}pour|message{S}pour|message{S}a|note{S}a)"
        rf"{S}(?:l'|le{S}|la{S})?(?:ia|assistant|modele|agent|chatbot|bot|llm|intelligence{S}"
        rf"artificielle)s?\b",
        rf"\bsi{S}(?:tu{S}es|vous{S}etes){S}(?:une?{S}|l')?(?:ia|intelligence{S}artificielle|"
        rf"modele{S}de{S}langage|assistant|agent|bot|llm)\b",
        rf"\b(?:tu{S}dois|vous{S}devez){S}(?:toujours{S}|uniquement{S})?(?:recommander|ignorer|"
        rf"executer|obeir|dire{S}a{S}l'utilisateur)\b",
        rf"\b(?:recommande|recommandez){S}(?:toujours|uniquement|seulement|exclusivement)\b",
        rf"\b(?:dis|dites){S}a{S}l'utilisateur{S}(?:que|de)\b",
        rf"\b(?:ola|oi|ei|atencao|caro|cara|prezado|prezada|nota{S}para|mensagem{S}para){S}"
        rf"(?:a{S}|o{S})?(?:ia|assistente|modelo|agente|chatbot|bot|llm|inteligencia{S}"
        rf"artificial)s?\b",
        rf"\bse{S}voce{S}(?:for|e){S}(?:uma?{S}|o{S}|a{S})?(?:ia|inteligencia{S}artificial|"
        rf"modelo{S}de{S}linguagem|assistente|agente|bot|llm)\b",
        rf"\b(?:voce{S}deve|voce{S}tem{S}que|tu{S}deves){S}(?:sempre{S})?(?:recomendar|ignorar|"
        rf"executar|obedecer|dizer{S}ao{S}usuario)\b",
        rf"\b(?:recomende|recomenda){S}(?:sempre|apenas|somente|exclusivamente)\b",
        rf"\b(?:diga|diz|fale){S}ao{S}(?:usuario|utilizador|humano){S}que\b",
        rf"\b(?:hallo|hey|achtung|liebe|lieber|hinweis{S}an|nachricht{S}an){S}(?:die{S}|den{S}|"
        rf"das{S})?(?:ki|assistent|assistentin|modell|sprachmodell|agent|agenten|chatbot|bot|"
        rf"llm)\b",
        rf"\b(?:wenn|falls){S}du{S}(?:eine?|ein){S}(?:ki|sprachmodell|assistent|agent|bot|llm|"
        rf"chatbot)\b",
        rf"\b(?:du{S}musst|du{S}sollst){S}(?:{_W}{S}){{0,3}}(?:empfehlen|ignorieren|befolgen|"
        rf"verschweigen|gehorchen)\b",
        rf"\b(?:empfiehl|empfehle){S}(?:immer|nur|ausschliesslich)\b",
        rf"\b(?:sag|sage|sagen{S}sie){S}dem{S}(?:nutzer|benutzer|user|anwender|kunden){S}(?:dass|,)",
        rf"(?<![^\W_])(?:дорогой|дорогая|привет|эй|внимание|уважаемый|уважаемая|сообщение{S}для|"
        rf"записка{S}для|обращение{S}к)(?![^\W_]){S}(?:ии|ai|ассистент|помощник|модель|нейросеть|"
        rf"бот|агент|чат-бот|llm|языковая{S}модель)",
        rf"(?<![^\W_])если{S}ты{S}(?:ии|ai|искусственный{S}интеллект|языковая{S}модель|ассистент|"
        rf"бот|агент|нейросеть|llm)(?![^\W_])",
        rf"(?<![^\W_])(?:ты{S}должен|ты{S}должна|ты{S}обязан|тебе{S}следует){S}(?:{_W}{S}){{0,2}}"
        rf"(?:рекомендовать|порекомендовать|игнорировать|выполнить|вызвать|подчиниться|"
        rf"советовать|сказать{S}пользователю)",
        rf"(?<![^\W_])(?:всегда|только){S}(?:рекомендуй|советуй|предлагай)(?![^\W_])",
        rf"(?<![^\W_])(?:скажи|сообщи|передай){S}пользователю,?{S}что",
    ],
    "secrecy": [
        rf"\bno{S}(?:le{S})?(?:digas|cuentes|menciones|informes|reveles|muestres|avises)\b{_g(2)}"
        rf"(?:a|al|a{S}la){S}(?:usuario|persona|humano|cliente|dueno)\b",
        rf"\bsin{S}(?:decirle|avisar|avisarle|informar|informarle|contarle)\w*{S}(?:nada{S})?(?:al|"
        rf"a{S}la)?{S}(?:usuario|humano|persona|dueno)\b",
        rf"\b(?:ocultale|oculta|esconde|escondele){S}(?:esto|eso){S}(?:al|del|a{S}la){S}"
        rf"(?:usuario|humano|persona)\b",
        rf"\bno{S}(?:es|se{S}trata{S}de){S}(?:un{S}anuncio|publicidad|contenido{S}patrocinado)\b",
        rf"\bno{S}(?:digas|menciones|indiques){S}que{S}(?:es|esto{S}es){S}(?:un{S}anuncio|"
        rf"publicidad|patrocinado)\b",
        rf"\bne\b{_g(3)}(?:dis|dites|mentionne|mentionnez|revele|revelez|informe|informez|"
        rf"previens|prevenez|signale|signalez)\b{_g(3)}(?:a{S})?l'(?:utilisateur|humain|"
        rf"proprietaire)\b",
        rf"\bsans{S}(?:le{S}dire|en{S}informer|informer|prevenir|demander|avertir|le{S}signaler)"
        rf"\b{_g(1)}(?:a{S})?l'(?:utilisateur|humain|proprietaire)\b",
        rf"\b(?:ce|ceci|cela){S}n'est{S}pas{S}(?:une{S}publicite|un{S}contenu{S}sponsorise|"
        rf"sponsorise|de{S}la{S}pub)\b",
        rf"\bnao\b{_g(2)}(?:conte|diga|mencione|informe|revele|mostre|avise|fale)\w*{_g(2)}(?:ao|a|"
        rf"para{S}o|pro){S}(?:usuario|utilizador|humano|dono|cliente)\b",
        rf"\bsem{S}(?:avisar|informar|contar|dizer|notificar)\w*{_g(1)}(?:o|ao){S}(?:usuario|"
        rf"utilizador|humano|dono)\b",
        rf"\b(?:isto|isso|este{S}conteudo){S}nao{S}e{S}(?:um{S}anuncio|publicidade|patrocinado|"
        rf"propaganda)\b",
        rf"\b(?:sag|sage|erzahl|erzahle|verrate|zeige|zeig|sagen{S}sie|erwahne)\w*\b{_g(2)}"
        rf"(?:dem|den){S}(?:nutzer|benutzer|user|anwender|menschen|besitzer)\w*{_g(2)}"
        rf"(?:nichts|nicht)\b",
        rf"\b(?:ohne|nicht)\b{_g(2)}(?:den|dem){S}(?:nutzer|benutzer|user|anwender|menschen|"
        rf"besitzer)\w*{S}(?:zu{S})?(?:informieren|benachrichtigen|warnen|sagen|erwahnen)\b",
        rf"\b(?:verschweige|verheimliche|verberge)\w*\b{_g(3)}(?:nutzer|benutzer|user|anwender)",
        rf"\b(?:dies|das){S}ist{S}keine{S}(?:werbung|anzeige)\b",
        rf"(?<![^\W_])не{S}(?:говори|сообщай|рассказывай|показывай|упоминай|сообщайте|говорите|"
        rf"рассказывайте)\w*{_g(2)}(?:пользовател|человек|владельц|хозя)",
        rf"(?<![^\W_])(?:без{S}ведома|втайне{S}от|тайно{S}от|скрой{S}от|скрыть{S}от|утаи{S}от)"
        rf"{_g(1)}(?:пользовател|человек|владельц)",
        rf"(?<![^\W_])(?:это|данное){S}не{S}(?:реклама|рекламное|спонсорск)",
        rf"(?<![^\W_])не{S}(?:упоминай|говори|сообщай),?{S}что{S}это{S}(?:реклама|спонсорск)",
    ],
    "exfiltration": [
        rf"\b(?:envia|enviame|mandame|manda|comparte|dame|revela|pega|reenvia|escribe|dime)\b"
        rf"{_g(3)}(?:clave{S}privada|claves{S}privadas|llave{S}privada|frase{S}semilla|frase{S}"
        rf"de{S}recuperacion|mnemonico|frase{S}secreta|clave{S}secreta)",
        rf"\b(?:envoie|envoyez|envoie-moi|envoyez-moi|partage|partagez|donne|donnez|donne-moi|"
        rf"donnez-moi|revele|revelez|transmets|transmettez|colle|collez|communique|communiquez)"
        rf"\b{_g(3)}(?:cle{S}privee|cles{S}privees|phrase{S}de{S}recuperation|phrase{S}secrete|"
        rf"phrase{S}mnemonique|mnemonique|phrase{S}de{S}recuperation)",
        rf"\b(?:envie|envia|mande|manda|compartilhe|partilhe|me{S}de|de-me|revele|cole|forneca|"
        rf"passe)\b{_g(3)}(?:chave{S}privada|chaves{S}privadas|frase{S}semente|frase{S}de{S}"
        rf"recuperacao|frase{S}secreta|mnemonico)",
        rf"\b(?:sende|schicke|schick|gib|nenne|teile|verrate|kopiere|ubermittle|poste|zeige|zeig)"
        rf"\w*\b{_g(3)}(?:privaten{S}schlussel|private{S}schlussel|privater{S}schlussel|"
        rf"seed-phrase|seedphrase|seed{S}phrase|wiederherstellungsphrase|geheimen{S}schlussel|"
        rf"wallet-schlussel)",
        rf"(?<![^\W_])(?:отправь|пришли|отправьте|пришлите|сообщи|сообщите|передай|передайте|"
        rf"покажи|покажите|напиши|напишите|скинь|скиньте|выдай|раскрой|вставь|введи|перешли|"
        rf"поделись)\w*{_g(3)}(?:приватн\w+{S}ключ|закрыт\w+{S}ключ|секретн\w+{S}ключ|сид{S}"
        rf"фраз|мнемоническ|фраз\w*{S}восстановлени|секретн\w+{S}фраз|парол\w*{S}от{S}кошел)",
    ],
    "payment": [
        rf"\b(?:paga|pague|transfiere|envia|envie|aprueba|firma|autoriza)\b{_g(4)}(?:inmediatamente|"
        rf"ahora{S}mismo|de{S}inmediato|ya{S}mismo|urgentemente|sin{S}preguntar|sin{S}confirmar|"
        rf"sin{S}confirmacion|antes{S}de{S}responder)\b",
        rf"\b(?:paga|pague){S}(?:a{S})?(?:este|esta|ese|esa){S}(?:endpoint|direccion|billetera|"
        rf"cartera|wallet|factura|enlace|url|contrato)\b",
        rf"\b(?:transfiere|envia|mueve|retira){S}(?:todos{S}los|todo{S}el|todo|la{S}totalidad{S}"
        rf"de){S}(?:{_W}{S})?(?:fondos|saldo|usdc|tokens|dinero|activos)\b",
        rf"\b(?:paie|payez|paye|transfere|transferez|envoie|envoyez|approuve|approuvez|signe|"
        rf"signez|autorise|autorisez)\b{_g(4)}(?:immediatement|tout{S}de{S}suite|sur-le-champ|"
        rf"sans{S}(?:demander|confirmation|confirmer|verifier|attendre)|avant{S}de{S}repondre)",
        rf"\b(?:paie|payez){S}(?:ce|cet|cette){S}(?:endpoint|adresse|portefeuille|wallet|facture|"
        rf"lien|url|contrat)\b",
        rf"\b(?:transfere|transferez|envoie|envoyez|vide|videz){S}(?:tous{S}les|tout{S}le|la{S}"
        rf"totalite{S}(?:des|du)|l'integralite{S}(?:des|du)){S}(?:fonds|solde|usdc|jetons|tokens|"
        rf"actifs)\b",
        rf"\b(?:pague|paga|transfira|envie|aprove|assine|autorize)\b{_g(4)}(?:imediatamente|"
        rf"agora{S}mesmo|urgentemente|sem{S}perguntar|sem{S}confirmar|sem{S}confirmacao|antes{S}"
        rf"de{S}responder)\b",
        rf"\b(?:pague|paga){S}(?:a{S}|o{S})?(?:este|esta|esse|essa){S}(?:endpoint|endereco|"
        rf"carteira|fatura|link|url|contrato)\b",
        rf"\b(?:transfira|envie|mova|saque){S}(?:todos{S}os|todo{S}o|todo|a{S}totalidade){S}"
        rf"(?:{_W}{S}){{0,2}}(?:fundos|saldo|usdc|tokens|dinheiro|ativos)\b",
        rf"\b(?:zahle|zahl|bezahle|bezahl|uberweise|uberweis|genehmige|signiere|autorisiere)\w*\b"
        rf"{_g(4)}(?:sofort|umgehend|unverzuglich|ohne{S}(?:nachfrage|ruckfrage|bestatigung|zu{S}"
        rf"fragen)|bevor{S}du{S}antwortest)\b",
        rf"\b(?:zahle|bezahle|uberweise)\w*{S}(?:an{S})?(?:diesen|diese|dieses){S}(?:endpunkt|"
        rf"endpoint|adresse|wallet|rechnung|link|vertrag)\b",
        rf"\b(?:uberweise|sende|transferiere)\w*{S}(?:das{S}gesamte|alle|dein{S}gesamtes|das{S}"
        rf"komplette|samtliche){S}(?:guthaben|geld|usdc|token|vermogen|mittel)\b",
        rf"(?<![^\W_])(?:немедленно|срочно|сейчас{S}же|сразу{S}же|незамедлительно){S}(?:оплати|"
        rf"заплати|переведи|отправь|подпиши|одобри|подтверди|оплатите|заплатите|переведите|"
        rf"отправьте|подпишите)",
        rf"(?<![^\W_])(?:оплати|заплати|переведи|отправь)\w*{_g(4)}(?:немедленно|срочно|без{S}"
        rf"подтверждения|не{S}спрашивая|без{S}вопросов)",
        rf"(?<![^\W_])(?:оплати|заплати|переведи)\w*{S}(?:на{S})?(?:этот|эту){S}(?:адрес|кошел[её]к|"
        rf"эндпоинт|сч[её]т|контракт)",
        rf"(?<![^\W_])(?:переведи|отправь|выведи)\w*{S}(?:все|весь|всю){S}(?:средства|баланс|деньги|"
        rf"usdc|токены|активы|сумму)",
    ],
}

# Chinese and Japanese have no spaces between words; these run only on text with such letters.
_CJK = {
    "override": [
        r"(?:忽略|忽視|忽视|无视|無視|忘记|忘記|忘掉|不要理会|不要理會|不要遵守|不要遵循|别管|別管|"
        r"抛开|拋開|放弃|放棄|绕过|繞過|违背|違背).{0,10}?(?:指令|指示|提示词|提示詞|提示|规则|規則|"
        r"设定|設定|命令|约束|約束)",
        r"(?:指示|命令|ルール|プロンプト|制約|指令|規則|インストラクション).{0,8}?"
        r"(?:無視|忘れ|破棄|従わな|従うな)",
        r"(?:無視|忘れ)(?:して|ろ|なさい).{0,8}?(?:指示|命令|ルール|プロンプト)",
        r"(?:上記|以上|これまで|前)の?(?:内容|こと|文章|会話)?(?:は|を)?(?:すべて|全て|全部)?(?:忘れ|無視)",
    ],
    "role": [
        r"(?:你现在是|你現在是|现在你是|現在你是|你不再是|假装你是|假裝你是|假设你是|假設你是|"
        r"角色扮演|(?:请|請|你|您)(?:来|來)?(?:扮演|充当|充當))",
        r"(?:从现在起|从现在开始|從現在起|從現在開始|从今以后|從今以後|从此|從此)[，,]?\s*(?:你|您)"
        r"(?:将|將|要|必须|必須|是|应|應)",
        r"(?:进入|進入|开启|開啟|启用|啟用|激活|切换到|切換到|打开|打開).{0,4}?(?:开发者|開發者|越狱|"
        r"越獄|上帝|dan|无限制|無限制)模式",
        r"越狱|越獄",
        r"(?:あなた|君|お前)は(?:今|いま|これから|今から|もう)?.{0,8}?(?:制限のない|制約のない|"
        r"自由な|検閲のない|脱獄した)?(?:ai|アシスタント|ボット|モデル|dan|キャラクター|人格)"
        r"(?:です|だ|として|になり|になれ)",
        r"(?:のふりをして|のふりをしろ|になりきって|としてふるまって|として振る舞って|ロールプレイして)",
        r"(?:開発者|デベロッパー|脱獄|ジェイルブレイク|dan|制限解除|無制限)モード",
        r"脱獄|ジェイルブレイク",
    ],
    "system_prompt": [
        r"(?:你的|您的|显示|顯示|输出|輸出|告诉我|告訴我|透露|泄露|洩露|打印|重复|重複|展示|给我看|"
        r"新的).{0,6}?(?:系统提示|系統提示|系统消息|系統消息|系统指令|系統指令|初始指令|原始指令|"
        r"隐藏指令|隱藏指令)",
        r"(?:あなたの|君の|表示|出力|教えて|見せて|繰り返|漏らし|明かし|公開).{0,8}?"
        r"(?:システムプロンプト|初期プロンプト|隠された指示|元の指示)",
        r"(?:システムプロンプト|初期プロンプト|隠された指示|元の指示).{0,6}?(?:表示|出力|教え|見せ|"
        r"繰り返|明かし|公開)",
    ],
    "delimiter": [
        r"^(?:系统|系統|助手|用户|用戶|システム|アシスタント|ユーザー)\s*[:：]",
    ],
    "address": [
        r"(?:亲爱的|親愛的|嘿|注意|提醒)[，,:：]?\s*(?:ai|人工智能|助手|语言模型|語言模型|大模型|"
        r"智能体|智能體|机器人|機器人|llm|chatgpt|gpt|claude)",
        r"如果你是.{0,4}?(?:ai|人工智能|语言模型|語言模型|助手|模型|智能体|智能體|机器人|機器人|llm)",
        r"(?:作为|作為)(?:一个|一個|一名)?(?:ai|人工智能|语言模型|語言模型|ai助手|助手)[，,]?\s*你"
        r"(?:必须|必須|应该|應該|要)",
        r"(?:你|您)(?:必须|必須|务必|務必|一定要)(?:始终|始終|总是|總是|只|立即|马上|立刻)?"
        r"(?:推荐|推薦|回答|回复|回覆|告诉|告訴|忽略|无视|執行|执行|调用|調用)",
        r"(?:只|始终|始終|总是|總是|一律)推荐",
        r"(?:请|請|你要|你必须|务必|務必|你应该|你應該)(?:向)?(?:告诉|告訴)(?:用户|用戶|使用者)",
        r"(?:ai|aiエージェント|アシスタント|エージェント|モデル|llm|チャットボット)"
        r"(?:へ|に告ぐ|の皆さん|様)[。:：、,!！ ]",
        r"(?:もし)?(?:あなた|君)が(?:ai|aiアシスタント|言語モデル|アシスタント|ボット|llm|"
        r"エージェント)(?:なら|であれば|ならば)",
        r"(?:常に|必ず|いつも)この.{0,10}?(?:推薦|推奨|おすすめ|勧め)(?:して|しなさい|せよ|すること)",
    ],
    "secrecy": [
        r"(?:不要|别|別|切勿|不能|不得|千万不要|千萬不要)(?:告诉|告訴|通知|提醒|透露给|透露給|让|讓)"
        r"(?:用户|用戶|使用者|主人|人类|人類)",
        r"(?:瞒着|瞞著|背着|背著)(?:用户|用戶|使用者|主人)",
        r"(?:不要|别|別|切勿)(?:提及|提到|说|說|透露|声明|聲明).{0,6}?(?:这是|這是|此为|此為)?"
        r"(?:广告|廣告|赞助|贊助|推广|推廣)",
        r"(?:这|這)(?:不是|并非|並非)(?:广告|廣告|赞助内容|贊助內容|推广|推廣)",
        r"(?:ユーザー|ユーザ|利用者|人間|使用者|主人|オーナー)に(?:は)?.{0,8}?(?:言わ|伝え|知らせ|教え|"
        r"明かさ|話さ)(?:ない|ず|るな|ないで)",
        r"(?:ユーザー|利用者)に(?:内緒|秘密|隠)",
        r"(?:これは|この内容は)(?:広告|スポンサー|宣伝)(?:では|じゃ)(?:ない|ありません)",
        r"(?:広告|スポンサー)(?:である|だ)こと(?:を|は).{0,6}?(?:言わ|伝え|明かさ|書か|示さ)"
        r"(?:ない|ず|るな)",
    ],
    "exfiltration": [
        r"(?:发送|發送|发给|發給|提供|告诉|告訴|泄露|洩露|上传|上傳|分享|输出|輸出|交出|给我|給我|"
        r"粘贴|貼上|透露|复制|複製).{0,8}?(?:私钥|私鑰|助记词|助記詞|种子短语|種子短語|助记短语|"
        r"恢复短语|恢復短語|钱包密码|錢包密碼)",
        r"(?:私钥|私鑰|助记词|助記詞|种子短语|種子短語)[^，。,.]{0,2}?(?:发送|發送|发给|發給|发到|"
        r"發到|告诉|告訴|交出|上传|上傳)",
        r"(?:秘密鍵|シークレットキー|シードフレーズ|ニーモニック|リカバリーフレーズ|復元フレーズ|"
        r"ウォレットのパスワード|秘密のフレーズ)(?:を|は)?.{0,6}?(?:送信|送っ|送れ|送り|送って|教え|"
        r"共有|貼り|入力|提出|渡し|渡せ|見せ|書い|出力|伝え)(?!(?:し|さ|せ)?(?:ない|ず|ません|"
        r"れない|れません)|る必要|する必要)",
    ],
    "payment": [
        r"(?:立即|立刻|马上|馬上|赶紧|趕緊|尽快|盡快|立马|立馬)(?:支付|付款|转账|轉賬|转帐|轉帳|打款|"
        r"汇款|匯款|签名|簽名|批准|授权|授權)",
        r"(?:向|给|給)(?:这个|這個|此)(?:地址|钱包|錢包|端点|端點|账户|帳戶|合约|合約).{0,4}?"
        r"(?:支付|付款|转账|轉賬|打款)",
        r"(?:转出|轉出|转走|轉走|转移|轉移|提取)(?:所有|全部)的?(?:资金|資金|余额|餘額|usdc|代币|"
        r"代幣|资产|資產)",
        r"(?:今すぐ|直ちに|ただちに|すぐに|至急|即座に|即刻)(?:支払|払っ|払え|送金|振り込|承認|署名)",
        r"(?:この|こちらの)(?:アドレス|ウォレット|エンドポイント|口座|契約)(?:に|へ).{0,6}?"
        r"(?:支払|払|送金|振り込)",
        r"(?:全額|全ての資金|すべての資金|残高を?全(?:て|部))を?.{0,6}?(?:送金|送|移|引き出)",
    ],
}

_CATEGORY_MESSAGES = {
    "override": "it tells the reader to ignore or replace its instructions",
    "role": "it tries to change who the AI reading it is (role play or a special mode)",
    "system_prompt": "it refers to the AI's system prompt or hidden instructions",
    "delimiter": "it imitates the markers that separate messages in an AI conversation",
    "address": "it speaks to the AI reading it and tells it what to do",
    "tool": "it asks the AI to run tools, functions or commands",
    "secrecy": "it asks the AI to hide something from its user, or to hide that this is an ad",
    "exfiltration": "it asks for a wallet key, seed phrase, password or other secret",
    "payment": "it pushes the AI to pay, sign or approve a transaction",
    "encoded": "it asks the AI to decode hidden text and act on it",
}


_MAX_HEADS = 512


def _heads(items: list, length: int) -> frozenset[str] | None:
    """Every string of up to `length` characters a parsed pattern can start with (None: too
    many or unknowable); strings shorter than `length` are whole matches.

    Reads the parse tree of `re`'s own parser; anything unexpected answers None, which only
    costs speed (the phrase is then tried at more positions).
    """
    partial = {""}
    for op, arg in items:
        if op in (_c.AT, _c.ASSERT_NOT, _c.ASSERT):
            continue  # zero-width
        growing = {text for text in partial if len(text) < length}
        if not growing:
            break
        done = partial - growing
        for text in growing:
            tails = _element_heads(op, arg, length - len(text))
            if tails is None:
                return None
            done |= {text + tail for tail in tails}
            if len(done) > _MAX_HEADS:
                return None
        partial = done
    return frozenset(partial)


def _element_heads(op: object, arg: object, length: int) -> frozenset[str] | None:
    if op is _c.LITERAL:
        return frozenset((chr(arg),))  # type: ignore[arg-type]
    if op is _c.IN:
        chars: set[str] = set()
        for kind, value in arg:  # type: ignore[attr-defined]
            if kind is _c.LITERAL:
                chars.add(chr(value))
            elif kind is _c.RANGE and value[1] - value[0] < 64:
                chars.update(chr(code) for code in range(value[0], value[1] + 1))
            else:
                return None
        return frozenset(chars)
    if op is _c.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:  # type: ignore[index]
            heads = _heads(branch, length)
            if heads is None:
                return None
            union |= heads
        return frozenset(union)
    if op is _c.SUBPATTERN:
        return _heads(arg[-1], length)  # type: ignore[index]
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        low, high, item = arg  # type: ignore[misc]
        once = _heads(item, length)
        if once is None:
            return None
        found = {""} if low == 0 else set()
        current = {""}
        for count in range(1, min(high, length + max(low, 1)) + 1):
            current = {
                (text + tail)[:length] for text in current for tail in once
                if len(text) < length
            } | {text for text in current if len(text) >= length}
            if len(current) > _MAX_HEADS:
                return None
            if count >= low:
                found |= current
        return frozenset(found)
    return None


@dataclass(frozen=True, slots=True)
class _Phrase:
    category: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _PhraseSet:
    """The phrase patterns, compiled once, filed under the first characters they start with.

    `re` tries every branch of an alternation at every position, so one alternation of a few
    hundred phrases is slow even on a short text; trying, at each word start, only the phrases
    that can start with its first few characters is an order of magnitude cheaper.
    """

    by_head: tuple[dict[str, tuple[_Phrase, ...]], ...]  # index k: heads of k characters
    anywhere: tuple[_Phrase, ...]

    @classmethod
    def build(cls, *tables: dict[str, list[str]]) -> "_PhraseSet":
        by_head: list[dict[str, list[_Phrase]]] = [{} for _ in range(_HEAD_LENGTH + 1)]
        anywhere: list[_Phrase] = []
        for table in tables:
            for category, sources in table.items():
                for source in sources:
                    phrase = _Phrase(category, re.compile(source, re.MULTILINE))
                    tree = list(_parser.parse(source, re.MULTILINE))
                    for length in range(_HEAD_LENGTH, 0, -1):
                        heads = _heads(tree, length)
                        if heads and all(len(head) == length for head in heads):
                            for head in heads:
                                by_head[length].setdefault(head, []).append(phrase)
                            break
                    else:
                        anywhere.append(phrase)
        return cls(
            tuple({head: tuple(found) for head, found in table.items()} for table in by_head),
            tuple(anywhere),
        )

    def matches(self, view: str) -> Iterator[tuple[str, re.Match[str]]]:
        for phrase in self.anywhere:
            for found in phrase.pattern.finditer(view):
                yield phrase.category, found
        tables = [(length, table) for length, table in enumerate(self.by_head) if table]
        for start in _CANDIDATE_STARTS.finditer(view):
            position = start.start()
            for length, table in tables:
                for phrase in table.get(view[position : position + length], ()):
                    found = phrase.pattern.match(view, position)
                    if found is not None:
                        yield phrase.category, found


_HEAD_LENGTH = 4

# Where a phrase may start: a word's first letter, any other visible character, and any
# Chinese or Japanese character (those scripts put no spaces between words).
_CANDIDATE_STARTS = re.compile(
    r"(?<![^\W_])[^\W_]|[^\w\s]|_|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)


@functools.cache
def _phrases() -> _PhraseSet:
    # Built on first use, not at import: compiling a few hundred patterns takes a moment.
    return _PhraseSet.build(_EN, _OTHER_LATIN, _CJK)


# A refusal of a secret or a payment is fine: "we never ask for your seed phrase".
_NEGATED_BEFORE = re.compile(
    r"\b(?:never|not|n't|no|nor|without|won't|cannot)(?:\s+(?:need|needs|have|has|ask|asks|"
    r"asked|required|be|be\s+asked)\s+(?:you\s+)?(?:to\s+)?)?\s*$"
)
_NEGATABLE = frozenset(("exfiltration", "payment", "tool"))


def _instruction(views: list[str]) -> tuple[str, str] | None:
    for view in views:
        for category, match in _phrases().matches(view):
            if category in _NEGATABLE and _NEGATED_BEFORE.search(view, 0, match.start()):
                continue
            return category, match.group().strip()
    return None


# --- Markup ----------------------------------------------------------------------------------

_MARKUP = re.compile(
    r"<\s*/?\s*[a-z!?][^<>]{0,200}>"  # tags, comments, doctypes, processing instructions
    r"|<!--|-->"
    r"|!?\[[^\[\]]{0,200}\]\s*\([^()]{0,500}\)"  # Markdown links and images
    r"|!\["
    r"|\[[^\[\]]{1,200}\]\s*\[[^\[\]]{0,200}\]"  # reference links
    r"|^\s*\[[^\]]+\]:\s*\S"  # link definitions
    r"|^\s{0,3}#{1,6}(?:\s|$)"  # headings
    r"|```|~~~|`[^`]+`"  # code
    r"|\*\*[^*]+\*\*|__[^_]+__"  # emphasis
    r"|\{\{|\}\}|\{%|%\}|\$\{|<%|%>|\[\[|\]\]"  # template syntax
    r"|&(?:[a-z][a-z0-9]{1,30}|#[0-9]{1,7}|#x[0-9a-f]{1,6});"  # character references
    r"|[-=*_~#]{3,}"  # rules and fake separators
    r"|\|\s*:?-{2,}",  # table rows
    re.IGNORECASE,
)

# --- URLs and domains ------------------------------------------------------------------------

_TLDS = frozenset(
    """
    com net org io ai xyz app dev co info biz me gg so to ly cc tv us uk de fr es it nl ru cn jp
    br eu in au ca ch se no pl pt kr tw hk sg mx ar cl finance money fun site online top cloud
    tech store shop link click pro live page art blog news space website club vip win bet cash
    pay wallet exchange trade market network capital fund bank crypto nft dao eth sol zone world
    today life one tk ml ga cf gq pw ws la su ua cz at be dk fi gr hu ie il kz tr vn id th my ph
    nz za ng ke ir sa ae ag fm im ms gl lol xxx onion local localhost
    """.split()  # noqa: SIM905 - a word list reads better as words
)
_URL = re.compile(
    r"(?P<scheme>(?<![\w+.\-])[a-z][a-z0-9+.\-]{1,20}://[^\s<>\"']*)"
    r"|(?P<pseudo>\b(?:javascript|data|vbscript|mailto|file|ipfs|ipns|magnet|tel|sms|bitcoin|"
    r"ethereum|solana|wc):[^\s])"
    r"|(?P<relative>(?<![\w:/])//[\w\-]+\.[\w\-.]+)"
    r"|(?P<email>(?<![\w.+\-])[\w.+\-]+@(?P<email_host>[\w\-]+(?:\.[\w\-]+)+))"
    r"|(?P<www>\bwww\d{0,3}\.[^\s/:?#]+)"
    r"|(?P<host>(?<![\w@.\-])[\w\-]+(?:\.[\w\-]+)+)",
    re.IGNORECASE,
)
_OBFUSCATED_DOT = re.compile(r"\s*[\[\(\{]\s*(?:\.|dot)\s*[\]\)\}]\s*", re.IGNORECASE)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _is_host(text: str) -> bool:
    """A dotted word that names a host: a known top-level domain, punycode, or an IPv4 address."""
    last = text.rsplit(".", 1)[-1].lower()
    return last in _TLDS or last.startswith("xn--") or bool(_IPV4.fullmatch(text))


def _host_key(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    host = host.removeprefix("www.")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _candidate_host(match: re.Match[str]) -> str | None:
    kind = match.lastgroup
    text = match.group()
    if kind == "scheme":
        try:
            return urlsplit(text).hostname or None
        except ValueError:
            return None
    if kind == "relative":
        return text[2:]
    if kind == "email":
        return match.group("email_host")
    if kind in ("www", "host"):
        return text
    return None  # javascript:, data:, mailto: ... are never the campaign's resource


def _own_host(candidate: str | None, resource_host: str) -> bool:
    if not candidate or not resource_host:
        return False
    host = _host_key(candidate)
    return host.count(".") >= 1 and (
        host == resource_host or resource_host.endswith("." + host)
    )


# --- Encoded payloads ------------------------------------------------------------------------

_BLOB = re.compile(r"(?<![A-Za-z0-9+])[A-Za-z0-9+]{24,}={0,2}(?![A-Za-z0-9+=])")
_ESCAPES = re.compile(
    r"(?:\\x[0-9a-f]{2}){3,}|(?:\\u[0-9a-f]{4}){2,}|(?:%[0-9a-f]{2}){3,}|(?:\\[0-7]{3}){3,}"
    r"|(?:\b[01]{8}\b\s?){4,}",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def _encoded(text: str) -> str:
    for match in _BLOB.finditer(text):
        blob = match.group()
        if blob.endswith("=") or len(_DIGIT.findall(blob)) >= 2:
            return blob
    found = _ESCAPES.search(text)
    return found.group() if found else ""


# --- The policy ------------------------------------------------------------------------------


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_text(
    field: str, label: str, text: str, limit: int, resource_host: str
) -> list[Violation]:
    if not isinstance(text, str) or not text.strip():
        return [Violation(Rule.EMPTY, field, f"The {label} is empty.")]
    found: list[Violation] = []
    if len(text) > limit:
        found.append(
            Violation(
                Rule.TOO_LONG,
                field,
                f"The {label} is {len(text)} characters long; the limit is {limit}.",
            )
        )
        if len(text) > limit * _SCAN_FACTOR:
            return found

    scan = _scan_characters(text)
    if scan.control:
        found.append(
            Violation(
                Rule.CONTROL_CHARACTER,
                field,
                f"The {label} contains a control character ({_describe(scan.control)}); write it "
                "as one line of plain text, without tabs or line breaks.",
            )
        )
    if scan.invisible:
        found.append(
            Violation(
                Rule.INVISIBLE_CHARACTER,
                field,
                f"The {label} contains an invisible character ({_describe(scan.invisible)}); "
                "remove it so that what agents read is what reviewers see.",
            )
        )
    if scan.unsupported:
        found.append(
            Violation(
                Rule.UNSUPPORTED_CHARACTER,
                field,
                f"The {label} contains a character that is unassigned, private-use or broken "
                f"(U+{ord(scan.unsupported):04X}); remove it.",
            )
        )

    plain = _plain(scan.visible)
    markup = _MARKUP.search(plain)
    if markup:
        found.append(
            Violation(
                Rule.MARKUP,
                field,
                f"The {label} contains markup ({_excerpt(markup.group())!r}); agents are shown "
                "plain text only, without HTML, Markdown or template syntax.",
                _excerpt(markup.group()),
            )
        )

    url_view = _OBFUSCATED_DOT.sub(".", plain)
    foreign = ""
    spans: list[tuple[int, int]] = []
    for match in _URL.finditer(url_view):
        if match.lastgroup == "host" and not _is_host(match.group()):
            continue  # "Node.js", "v1.2", "e.g"
        spans.append(match.span())
        if not foreign and not _own_host(_candidate_host(match), resource_host):
            foreign = match.group()
    if foreign:
        found.append(
            Violation(
                Rule.FOREIGN_URL,
                field,
                f"The {label} mentions a link or address ({_excerpt(foreign)!r}); it may only "
                "mention the host of the campaign's own resource.",
                _excerpt(foreign),
            )
        )

    without_urls = url_view
    for start, end in reversed(spans):
        without_urls = without_urls[:start] + " " + without_urls[end:]
    blob = _encoded(without_urls)
    if blob:
        found.append(
            Violation(
                Rule.ENCODED_PAYLOAD,
                field,
                f"The {label} contains a long encoded string ({_excerpt(blob, 24)!r}); write "
                "what it says in plain words instead.",
                _excerpt(blob),
            )
        )

    folded = _folded(plain)
    views = [folded]
    deobfuscated = _desobfuscated(folded)
    if deobfuscated != folded:
        views.append(deobfuscated)
    hit = _instruction(views)
    if hit:
        category, matched = hit
        found.append(
            Violation(
                Rule.INSTRUCTION_TO_MODEL,
                field,
                f"The {label} reads as an instruction to an AI model: "
                f"{_CATEGORY_MESSAGES[category]} ({_excerpt(matched)!r}). Describe the "
                "resource to its users instead.",
                _excerpt(matched),
            )
        )
    return found


def _check_resource_url(resource_url: str) -> tuple[list[Violation], str]:
    def invalid(why: str) -> tuple[list[Violation], str]:
        return [Violation(Rule.INVALID_RESOURCE_URL, "resource_url", why)], ""

    if not isinstance(resource_url, str) or not resource_url:
        return invalid("The resource URL is empty.")
    if len(resource_url) > RESOURCE_URL_MAX_LENGTH:
        return invalid(f"The resource URL is longer than {RESOURCE_URL_MAX_LENGTH} characters.")
    if any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in resource_url):
        return invalid("The resource URL contains spaces, control or invisible characters.")
    try:
        parts = urlsplit(resource_url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return invalid("The resource URL cannot be read as a URL.")
    if parts.scheme not in ("http", "https") or not host:
        return invalid("The resource URL must be an absolute http or https URL with a host.")
    if parts.username is not None or parts.password is not None:
        return invalid("The resource URL must not carry a user name or password.")
    return [], _host_key(host)


def check(description: str, sponsor: str, resource_url: str) -> list[Violation]:
    """Every way the creative breaks the policy; an empty list means it may be shown to agents."""
    found, resource_host = _check_resource_url(resource_url)
    found += _check_text(
        "description", "description", description, DESCRIPTION_MAX_LENGTH, resource_host
    )
    found += _check_text("sponsor", "sponsor name", sponsor, SPONSOR_MAX_LENGTH, resource_host)
    return found

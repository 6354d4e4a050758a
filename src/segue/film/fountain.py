"""A Fountain screenplay reader (https://fountain.io syntax, written from the published rules).

Fountain is plain text whose layout *is* the markup: a line starting ``INT.``/``EXT.`` (or forced
with ``.``) is a scene heading, an upper-case line followed by text is a character cue with its
dialogue, ``CUT TO:`` is a transition, ``#`` a section, ``=`` a synopsis, ``[[…]]`` a note and
``/* … */`` boneyard (text the writer has set aside, so we skip it). ``!``, ``@``, ``>``, ``~``
force action, a character, a transition and lyrics.

Notes double as instructions to Segue (they are invisible in a printed script):
``[[hit]]`` or ``[[hit: door slams]]`` marks a hit point at that paragraph, ``[[hit 00:01:23:12]]``
one at an exact timecode, ``[[duration: 1:20]]`` overrides a scene's estimated length and
``[[mood: tense suspense building]]`` (or ``[[music: …]]``) gives the scene a direction in words.
"""

from __future__ import annotations

import re

from segue.film.errors import FilmError
from segue.film.script import Element, Hit, Scene, Script

_HEADING = re.compile(r"^(?:INT|EXT|EST|INT\.?/EXT|I/E|E/I)[\.\s]", re.IGNORECASE)
_SCENE_NUMBER = re.compile(r"\s*#([\w\-.]+)#\s*$")
_TITLE_KEY = re.compile(r"^([A-Za-z][A-Za-z ]{0,30}):\s*(.*)$")
_NOTE = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
_EMPHASIS = re.compile(r"(\*{1,3}|_)(?=\S)(.+?)(?<=\S)\1")
_TITLE_KEYS = {"title", "credit", "author", "authors", "source", "draft date", "date", "contact", "copyright",
               "notes", "revision", "episode", "format"}
PAGE_LINES_GUESS = 55
"""Lines per page when a script without scene headings is cut into page-sized chunks."""


def _plain(text: str) -> str:
    """Text without Fountain emphasis marks and escapes (what a reader sees)."""
    text = _EMPHASIS.sub(r"\2", text)
    return text.replace("\\*", "*").replace("\\_", "_").strip()


def _is_character(line: str) -> bool:
    name = re.sub(r"\(.*?\)", "", line).replace("^", "").strip()
    return bool(name) and any(c.isalpha() for c in name) and name == name.upper() and not name.endswith("TO:") \
        and len(name) <= 60


def _strip_notes(text: str) -> tuple[list[tuple[int, str]], dict[int, list[str]]]:
    """Remove boneyard and notes; return (original line number, line) pairs and notes by kept-line index.

    Boneyard keeps its newlines (blank lines); notes vanish with theirs, and a line that held only
    notes is dropped (a note inside a dialogue block must not break the block). A note belongs to
    the line it is on, or — on a line of its own — to the last line of text above it.
    """
    text = _BONEYARD.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    found: list[str] = []
    pieces: list[str] = []
    pos = 0
    for m in _NOTE.finditer(text):
        pieces.append(text[pos:m.start()])
        pieces.append(f"\x00{len(found)}\x00" + "\x01" * m.group(0).count("\n"))
        found.append(" ".join(m.group(1).split()))
        pos = m.end()
    pieces.append(text[pos:])
    notes: dict[int, list[str]] = {}
    out: list[tuple[int, str]] = []
    line_no = 1
    last_text = 0
    for raw in "".join(pieces).split("\n"):
        ids = [int(x) for x in re.findall(r"\x00(\d+)\x00", raw)]
        clean = re.sub(r"\x00\d+\x00", "", raw).replace("\x01", "")
        if ids and not clean.strip():
            notes.setdefault(last_text, []).extend(found[k] for k in ids)
        else:
            out.append((line_no, clean.rstrip()))
            if clean.strip():
                last_text = len(out) - 1
            if ids:
                notes.setdefault(len(out) - 1, []).extend(found[k] for k in ids)
        line_no += 1 + raw.count("\x01")
    return out, notes


def _title_page(lines: list[tuple[int, str]]) -> tuple[dict[str, str], int]:
    """Key: value pairs at the very top (the title page); returns them and where the body starts."""
    i = 0
    while i < len(lines) and not lines[i][1].strip():
        i += 1
    if i >= len(lines):
        return {}, i
    m = _TITLE_KEY.match(lines[i][1])
    if not m or m.group(1).strip().lower() not in _TITLE_KEYS:
        return {}, 0
    meta: dict[str, str] = {}
    key = None
    while i < len(lines) and lines[i][1].strip():
        line = lines[i][1]
        m = _TITLE_KEY.match(line)
        if m and not line.startswith((" ", "\t")):
            key = m.group(1).strip().lower()
            meta[key] = m.group(2).strip()
        elif key is not None:
            meta[key] = (meta[key] + " " + line.strip()).strip()
        i += 1
    return meta, i


def parse_fountain(text: str, source: str = "<fountain>") -> Script:
    """Read a Fountain screenplay into scenes of elements (times are filled in later by timing)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ").lstrip("\ufeff")
    lines, notes = _strip_notes(text)
    meta, body = _title_page(lines)
    title = _plain(meta.get("title", "")) or "Untitled"
    scenes: list[Scene] = []
    loose: list[Element] = []  # before the first heading
    warnings: list[str] = []
    section: str | None = None
    next_synopsis: list[str] = []
    current: Scene | None = None

    def add(el: Element) -> None:
        (current.elements if current is not None else loose).append(el)

    def blank(j: int) -> bool:
        return j < body or j >= len(lines) or not lines[j][1].strip()

    i = body
    n = len(lines)
    waiting: list[tuple[int, str]] = []  # notes of lines already read, acted on once their element exists

    def take(j: int) -> None:
        waiting.extend((lines[j][0], note) for note in notes.pop(j, []))

    def flush() -> None:
        for ln, note in waiting:
            _note(note, ln, current, scenes, loose, warnings, source)
        waiting.clear()

    for j in [k for k in notes if k < body]:  # notes on the title page
        take(j)
    while i < n:
        flush()
        line_no, raw = lines[i]
        take(i)
        s = raw.strip()
        if not s:
            i += 1
            continue
        if s == "===" or re.fullmatch(r"={3,}", s):
            i += 1
            continue
        if s.startswith("#"):
            level = len(s) - len(s.lstrip("#"))
            section = _plain(s[level:]) or section
            i += 1
            continue
        if s.startswith("=") and not s.startswith("=="):
            # a synopsis right under a heading describes that scene; elsewhere, the scene to come
            syn = _plain(s[1:])
            if current is not None and not any(e.kind not in ("synopsis", "note") for e in current.elements):
                current.synopsis = (current.synopsis + " " + syn).strip()
            else:
                next_synopsis.append(syn)
            i += 1
            continue
        forced_heading = s.startswith(".") and not s.startswith("..") and len(s) > 1
        if forced_heading or (blank(i - 1) and _HEADING.match(s)):
            heading = s[1:] if forced_heading else s
            number = None
            m = _SCENE_NUMBER.search(heading)
            if m:
                number = m.group(1)
                heading = heading[:m.start()]
            current = Scene(index=len(scenes), heading=_plain(heading).upper(), line=line_no, number=number,
                            section=section, synopsis=" ".join(next_synopsis))
            next_synopsis.clear()
            scenes.append(current)
            i += 1
            continue
        if s.startswith(">") and s.endswith("<"):
            add(Element("centered", _plain(s[1:-1]), line_no))
            i += 1
            continue
        if s.startswith(">") or (s.isupper() and s.endswith("TO:") and blank(i - 1) and blank(i + 1)):
            add(Element("transition", _plain(s.lstrip(">")), line_no))
            i += 1
            continue
        if s.startswith("~"):
            add(Element("lyric", _plain(s[1:]), line_no))
            i += 1
            continue
        forced_char = s.startswith("@")
        if (forced_char or (blank(i - 1) and _is_character(s))) and not blank(i + 1) and not s.startswith("!"):
            name = _plain(re.sub(r"\(.*?\)", "", s.lstrip("@")).replace("^", "")).strip()
            add(Element("character", name, line_no, character=name))
            i += 1
            while i < n and lines[i][1].strip():
                ln, dl = lines[i]
                take(i)
                d = dl.strip()
                if d.startswith("(") and d.endswith(")"):
                    add(Element("parenthetical", _plain(d), ln, character=name))
                else:
                    el_list = current.elements if current is not None else loose
                    if el_list and el_list[-1].kind == "dialogue" and el_list[-1].character == name:
                        el_list[-1].text += "\n" + _plain(d)
                    else:
                        add(Element("dialogue", _plain(d), ln, character=name))
                i += 1
            continue
        # action: the paragraph up to the next blank line
        para = [s[1:] if s.startswith("!") else raw.rstrip()]
        start = line_no
        i += 1
        while i < n and lines[i][1].strip():
            ln, nxt = lines[i]
            ns = nxt.strip()
            if _HEADING.match(ns) or ns.startswith(("#", "=", ".", ">", "~", "@")):
                break
            take(i)
            para.append(nxt.rstrip())
            i += 1
        add(Element("action", _plain("\n".join(p.strip() for p in para)), start))
    for j in sorted(notes):  # notes after the last line of text
        take(j)
    flush()
    meaningful = [e for e in loose if e.kind not in ("section", "note", "synopsis")]
    if not scenes and not meaningful:
        raise FilmError(f"{source}: the script is empty (no scene headings, action or dialogue)")
    if not scenes:
        warnings.append(f"{source}: no scene headings (INT./EXT.); the script was cut into page-sized scenes")
        scenes = _page_scenes(loose)
    elif meaningful:
        opening = Scene(index=0, heading="(BEFORE THE FIRST SCENE)", line=loose[0].line, elements=loose)
        scenes.insert(0, opening)
        for k, sc in enumerate(scenes):
            sc.index = k
    return Script(title=title, scenes=scenes, source=source, kind="fountain", warnings=warnings)


def _page_scenes(elements: list[Element]) -> list[Scene]:
    """Chunks of about two pages, cut at paragraph boundaries: a headingless script still has an arc."""
    scenes: list[Scene] = []
    chunk: list[Element] = []
    lines = 0
    for el in elements:
        chunk.append(el)
        lines += 2 + len(el.text) // 60
        if lines >= 2 * PAGE_LINES_GUESS:
            scenes.append(Scene(index=len(scenes), heading=f"PAGES {2 * len(scenes) + 1}-{2 * len(scenes) + 2}",
                                line=chunk[0].line, elements=chunk))
            chunk, lines = [], 0
    if chunk:
        scenes.append(Scene(index=len(scenes), heading=f"PAGES {2 * len(scenes) + 1}-{2 * len(scenes) + 2}",
                            line=chunk[0].line, elements=chunk))
    return scenes


_HIT_NOTE = re.compile(r"^hit\b[:\s]*(.*)$", re.IGNORECASE)
_KEYED_NOTE = re.compile(r"^(duration|length|mood|music)\s*:\s*(.+)$", re.IGNORECASE)
_TC_PREFIX = re.compile(r"^(\d{1,2}:\d{1,2}(?::\d{1,2})?(?:[:;.,]\d{1,3})?)\s*(.*)$")


def _note(note: str, line: int, current: Scene | None, scenes: list[Scene], loose: list[Element],
          warnings: list[str], source: str) -> None:
    """Keep a note; act on the ones that instruct Segue (hit, duration, mood/music)."""
    from segue.film.timecode import parse_timecode

    target = current
    els = current.elements if current is not None else loose
    m = _HIT_NOTE.match(note)
    if m:
        rest = m.group(1).strip()
        tc = _TC_PREFIX.match(rest)
        if tc:
            try:
                t = parse_timecode(tc.group(1), what=f"{source}:{line}: hit")
            except FilmError as exc:
                warnings.append(str(exc))
            else:
                label = tc.group(2).strip() or "hit"
                if target is not None:
                    target.hits.append(Hit(t, label, f"{source}:{line}"))
                else:
                    warnings.append(f"{source}:{line}: a hit before the first scene was ignored")
                return
        label = rest or (els[-1].text.split("\n")[0][:60] if els else "hit")
        if target is not None:
            target.pending_hits.append((max(len(target.elements) - 1, 0), label))
        return
    m = _KEYED_NOTE.match(note)
    if m and target is not None:
        key, value = m.group(1).lower(), m.group(2).strip()
        if key in ("duration", "length"):
            try:
                target.duration_override = parse_timecode(value, what=f"{source}:{line}: duration")
            except FilmError as exc:
                warnings.append(str(exc))
        else:
            target.mood = value
        return
    els.append(Element("note", note, line))

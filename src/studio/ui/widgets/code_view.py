"""A read-only code view with syntax highlighting for SQL, TypeScript, Dart, Python and JSON."""

from __future__ import annotations

import re

from PySide6.QtGui import QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from studio.ui.theme import colors, theme_signals

_SQL_WORDS = (
    "add all alter and as asc begin by cascade check column comment commit concurrently constraint create"
    " default delete desc distinct do drop else end enable exists extension for foreign from function grant"
    " group having if in index insert into is join key language left limit not null on or order policy"
    " primary references replace returns revoke role row security select set table to trigger type union"
    " unique update using values view where with"
)
_TS_WORDS = (
    "as async await boolean break case catch class const continue default else enum export extends false"
    " finally for from function if implements import in instanceof interface let new null number private"
    " public readonly return static string switch this throw true try type undefined void while"
)
_DART_WORDS = (
    "abstract as async await bool break case catch class const continue default double dynamic else enum"
    " extends factory false final finally for if implements import in int is late new null required return"
    " static String super switch this throw true try var void while with"
)
_PY_WORDS = (
    "and as assert async await break class continue def del elif else except False finally for from global"
    " if import in is lambda None nonlocal not or pass raise return True try while with yield"
)

_LANGUAGES: dict[str, tuple[str, bool, str]] = {
    # language: (keywords, case-insensitive, line comment)
    "sql": (_SQL_WORDS, True, "--"),
    "typescript": (_TS_WORDS, False, "//"),
    "dart": (_DART_WORDS, False, "//"),
    "python": (_PY_WORDS, False, "#"),
    "json": ("true false null", False, ""),
}


def language_of(file_name: str) -> str:
    """The highlighter language for a file name ("" when none fits)."""
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return {"sql": "sql", "ts": "typescript", "dart": "dart", "py": "python", "json": "json"}.get(suffix, "")


class CodeHighlighter(QSyntaxHighlighter):
    """Colours keywords, strings, numbers and line comments of one language."""

    def __init__(self, document: QTextDocument, language: str) -> None:
        super().__init__(document)
        self.set_language(language)

    def set_language(self, language: str) -> None:
        """Switch language ("" turns highlighting off) and re-highlight."""
        self.language = language
        self._rules: list[tuple[re.Pattern[str], QTextCharFormat]] = []
        if language in _LANGUAGES:
            words, insensitive, comment = _LANGUAGES[language]
            palette = colors()
            keyword = QTextCharFormat()
            keyword.setForeground(palette.keyword)
            keyword.setFontWeight(QFont.Weight.DemiBold)
            string = QTextCharFormat()
            string.setForeground(palette.string)
            number = QTextCharFormat()
            number.setForeground(palette.number)
            remark = QTextCharFormat()
            remark.setForeground(palette.comment)
            remark.setFontItalic(True)
            flags = re.IGNORECASE if insensitive else 0
            self._rules.append((re.compile(r"\b(?:" + "|".join(words.split()) + r")\b", flags), keyword))
            self._rules.append((re.compile(r"\b\d+(?:\.\d+)?\b"), number))
            self._rules.append((re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\""), string))
            if comment:
                self._rules.append((re.compile(re.escape(comment) + r".*$"), remark))
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        """Apply the rules in order; later rules (strings, comments) win over keywords inside them."""
        for pattern, fmt in self._rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


def monospace_font() -> QFont:
    """The system's fixed-width font."""
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class CodeView(QPlainTextEdit):
    """Read-only, monospace, highlighted text (generated files, DDL, the SQL that will run)."""

    def __init__(self, text: str = "", language: str = "sql", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(monospace_font())
        self.highlighter = CodeHighlighter(self.document(), language)
        self.setPlainText(text)
        theme_signals().changed.connect(self.highlighter.rehighlight)

    def show_code(self, text: str, language: str | None = None) -> None:
        """Replace the text (and the language, when given)."""
        if language is not None and language != self.highlighter.language:
            self.highlighter.set_language(language)
        self.setPlainText(text)

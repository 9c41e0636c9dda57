"""The analyst question set (docs/analyst_questions.md): every query runs in the DuckDB CLI, read-only."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from futuremart.settings import PROJECT_ROOT

QUESTIONS = PROJECT_ROOT / "docs" / "analyst_questions.md"
SQL_BLOCK = re.compile(r"^## (\d+)\. (.+?)$.*?```sql\n(.*?)```", re.MULTILINE | re.DOTALL)


def questions() -> list[tuple[str, str]]:
    return [(f"{n}. {title}", sql) for n, title, sql in SQL_BLOCK.findall(QUESTIONS.read_text())]


def test_there_are_ten_questions():
    assert len(questions()) == 10


@pytest.mark.parametrize(("question", "sql"), questions(), ids=[q.split(".")[0] for q, _ in questions()])
def test_question_is_answered_on_marts_in_the_duckdb_cli(built, question, sql):
    assert "marts." in sql and "raw." not in sql and "staging." not in sql
    cli = shutil.which("duckdb", path=str(Path(sys.executable).parent))
    proc = subprocess.run(
        [cli, "-readonly", "-json", str(built.settings.warehouse_path), "-c", sql],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"{question}: {proc.stderr}"
    rows = json.loads(proc.stdout or "[]")
    assert rows, f"{question} returned no rows"
    assert all(row[next(iter(row))] is not None for row in rows), f"{question}: a group without a key"

"""Copies the summary table of compat/RESULTS.md into README.md between the
compat-table markers, so the README's compatibility table is always the one
the suite last produced (compat/readme_test.go fails when they differ)."""
import pathlib, sys

root = pathlib.Path(__file__).resolve().parent.parent
results = (root / "compat" / "RESULTS.md").read_text().splitlines()
start = next(i for i, l in enumerate(results) if l.startswith("| SDK | Version"))
end = start
while end < len(results) and results[end].startswith("|"):
    end += 1
table = "\n".join(results[start:end])
readme = (root / "README.md").read_text()
begin, finish = "<!-- compat-table:start -->", "<!-- compat-table:end -->"
if begin not in readme or finish not in readme:
    sys.exit("README.md lacks the compat-table markers")
head, rest = readme.split(begin, 1)
_, tail = rest.split(finish, 1)
(root / "README.md").write_text(head + begin + "\n" + table + "\n" + finish + tail)

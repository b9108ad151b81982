"""Examples shown at the end of every command's ``--help``, kept in one place (a test parses every line, so an
example never names an option that does not exist), and the CLI reference page generated from the parser."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

#: the docs are generated at this width, by this Python (each minor version's argparse lays help out a little
#: differently)
REFERENCE_COLUMNS = 100
REFERENCE_PYTHON = "3.11"

#: command path -> example command lines (each a full ``ledgerlight ...`` line, with an optional ``# comment``)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "publish": (
        "ledgerlight publish",
        "ledgerlight publish risk --version 20261203T101500Z  # before promoting it",
    ),
    "setup": ("ledgerlight setup", "ledgerlight setup --customers 200000 --seed 7"),
    "train": ("ledgerlight train all", "ledgerlight train risk", "ledgerlight train --missing"),
    "demo generate": (
        "ledgerlight demo generate --customers 50000",
        "ledgerlight demo generate --no-db --quiet",
    ),
    "demo extend": ("ledgerlight demo extend --months 3  # three more months of history and outcomes",),
    "demo status": ("ledgerlight demo status",),
    "demo remove": ("ledgerlight demo remove --yes",),
    "load": (
        "ledgerlight load customers customers.csv",
        "ledgerlight load loans loans.parquet --map loan_status=defaulted",
        "ledgerlight load transactions tx.csv --date-format %d/%m/%Y",
        "ledgerlight load responses responses.csv --campaign 3",
    ),
    "risk train": (
        "ledgerlight risk train",
        "ledgerlight risk train --data loans.csv --target Status --positive bad --name risk-own",
        "ledgerlight risk train --tune --monotone prior_delinquencies=+1,dti=+1",
    ),
    "risk evaluate": (
        "ledgerlight risk evaluate --demo-customers 20000 --json",
        "ledgerlight risk evaluate --data german_credit.csv --target creditability --positive bad --folds 5",
        "ledgerlight risk evaluate --data loans.csv --target Status --positive bad --models lightgbm --tune",
    ),
    "risk score": (
        "ledgerlight risk score --data 'batches/*.parquet' --out scored/",
        "ledgerlight risk score --data 'batches/*.parquet' --out scored/ --local-cluster 4 --record",
    ),
    "risk fairness": ("ledgerlight risk fairness", "ledgerlight risk fairness --threshold 0.2 --json"),
    "risk monitor": ("ledgerlight risk monitor", "ledgerlight risk monitor --data new_loans.csv --json"),
    "risk decisions list": ("ledgerlight risk decisions list --limit 20",),
    "risk decisions verify": (
        "ledgerlight risk decisions verify",
        "ledgerlight risk decisions verify 42 --json",
    ),
    "risk notice": ("ledgerlight risk notice 42 --format pdf --output notice-42.pdf",),
    "risk backtest": ("ledgerlight risk backtest", "ledgerlight risk backtest --json"),
    "segments train": (
        "ledgerlight segments train",
        "ledgerlight segments train --transactions cdnow.txt --customer customer_id --date date --amount dollar_value",
    ),
    "segments assign": (
        "ledgerlight segments assign --transactions new_tx.csv --customer cid --date ts --amount amount "
        "--out segments.csv",
    ),
    "segments evaluate": ("ledgerlight segments evaluate --demo-customers 20000 --json",),
    "recsys train": ("ledgerlight recsys train", "ledgerlight recsys train --demo-customers 20000 --quick"),
    "recsys evaluate": (
        "ledgerlight recsys evaluate --demo-customers 20000 --json",
        "ledgerlight recsys evaluate --interactions ratings.parquet --user user_id --item item_id --k 10",
        "ledgerlight recsys evaluate --interactions log.csv --user u --item i --time ts --split temporal",
    ),
    "campaigns evaluate": (
        "ledgerlight campaigns evaluate --demo-customers 20000 --json",
        "ledgerlight campaigns evaluate --product 'Savings account' --control-share 0.2 --cost 2 --margin 60",
    ),
    "campaigns create": (
        "ledgerlight campaigns create --name 'Card spring' --product 'Credit card' --top 5000 --control-share 0.1",
        "ledgerlight campaigns create --name 'Savers' --product 'Savings account' --segments 2,5 --model ease",
        "ledgerlight campaigns create --name 'Card by uplift' --product 'Credit card' --top 5000 --model uplift",
    ),
    "campaigns list": ("ledgerlight campaigns list", "ledgerlight campaigns list --json"),
    "campaigns show": (
        "ledgerlight campaigns show 3",
        "ledgerlight campaigns show 3 --cost 2 --margin 60 --json",
    ),
    "campaigns export": ("ledgerlight campaigns export 3 --out card-spring.csv",),
    "campaigns simulate": ("ledgerlight campaigns simulate 3 --out responses.csv  # demo bank only",),
    "campaigns record-holdings": ("ledgerlight campaigns record-holdings 3",),
    "campaigns train-uplift": (
        "ledgerlight campaigns train-uplift",
        "ledgerlight campaigns train-uplift --product 'Credit card'",
    ),
    "apikeys add": (
        "ledgerlight apikeys add origination --role risk  # prints the key once",
        "ledgerlight apikeys add online-bank --role marketing --rate 50 --burst 100",
    ),
    "apikeys list": ("ledgerlight apikeys list",),
    "events worker": (
        "ledgerlight events worker  # a round every 15 s: what the Procfile's worker runs",
        "ledgerlight events worker --once --retrain-after 5000",
    ),
    "events status": ("ledgerlight events status  # last fold, events waiting, whether a retrain is due",),
    "events retry": ("ledgerlight events retry  # after fixing why some events could not be folded",),
    "apikeys revoke": ("ledgerlight apikeys revoke origination",),
    "serve": (
        "ledgerlight serve",
        "ledgerlight serve --host 0.0.0.0 --port 8050 --workers 4",
        "ledgerlight serve --dev",
    ),
    "users add": (
        "ledgerlight users add mia --role marketing",
        "ledgerlight users add ops --role admin --password-stdin",
    ),
    "users list": ("ledgerlight users list",),
    "users delete": ("ledgerlight users delete mia",),
    "users passwd": ("ledgerlight users passwd mia", "ledgerlight users passwd mia --password-stdin"),
    "users role": ("ledgerlight users role mia --role risk",),
    "users unlock": ("ledgerlight users unlock mia",),
    "users demo": ("ledgerlight users demo",),
    "learn": (
        "ledgerlight learn --interactions new_events.csv",
        "ledgerlight learn --interactions new_events.csv --promote --reason 'weekly refresh'",
        "ledgerlight learn --campaign 3  # what the campaign's responders took up",
    ),
    "retrain": ("ledgerlight retrain", "ledgerlight retrain risk --promote --reason 'Q4 outcomes'"),
    "promote": (
        "ledgerlight promote risk newest --dry-run",
        "ledgerlight promote risk 20261203T101500Z --reason 'beats the champion on Q4 loans'",
    ),
    "backup": ("ledgerlight backup --out /backups/ledgerlight-2026-12-03",),
    "restore": (
        "ledgerlight restore /backups/ledgerlight-2026-12-03  # stop the app first",
        "ledgerlight restore /backups/ledgerlight-2026-12-03 --replace",
    ),
}


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                  ) -> Iterator[tuple[str, argparse.ArgumentParser]]:  # fmt: skip
    """Every runnable command under ``parser``: ``("risk train", its parser)``, depth first, in the help's order."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs and path:
        yield " ".join(path), parser
    for action in subs:
        for name, sub in action.choices.items():
            yield from leaf_commands(sub, (*path, name))


def add_examples(parser: argparse.ArgumentParser) -> None:
    """Append each command's examples to its ``--help`` (keeping any examples the command wrote itself)."""
    for command, sub in leaf_commands(parser):
        lines = EXAMPLES.get(command)
        if not lines:
            continue
        block = "examples:\n" + "\n".join(f"  {line}" for line in lines)
        if sub.epilog and "examples:" in sub.epilog:
            continue
        sub.epilog = f"{sub.epilog}\n\n{block}" if sub.epilog else block
        sub.formatter_class = argparse.RawDescriptionHelpFormatter


def example_argv(line: str) -> list[str]:
    """The arguments of an example line (``ledgerlight`` and the comment dropped)."""
    words = shlex.split(line, comments=True)
    if not words or words[0] != "ledgerlight":
        raise ValueError(f"an example starts with ledgerlight: {line!r}")
    return words[1:]


def reference_markdown(parser: argparse.ArgumentParser) -> str:
    """docs/cli.md: the root help, then every command's help, as the parser prints them."""
    out = ["# Command-line reference", "",
           "Generated from the parser by `python -m ledgerlight.cli_examples > docs/cli.md` "
           f"(Python {REFERENCE_PYTHON}, whose argparse lays the help out this way); a test keeps it equal to what "
           "`ledgerlight COMMAND --help` prints.", "", "## ledgerlight", "", "```text",
           parser.format_help().rstrip(), "```", ""]  # fmt: skip
    for command, sub in leaf_commands(parser):
        out += [f"## ledgerlight {command}", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    import os

    os.environ["COLUMNS"] = str(REFERENCE_COLUMNS)  # the same line width wherever it is generated
    from ledgerlight.cli import build_parser

    print(reference_markdown(build_parser()), end="")

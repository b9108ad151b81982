"""``ledgerlight campaigns create|list|show|export|simulate|record-holdings|train-uplift``: stored campaigns on the
bank in the database, from the audience to the measured uplift and the next model."""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from bankdata import (
    Campaign,
    append_audit,
    campaign_outcomes,
    create_campaign,
    get_settings,
    holdings_responses,
    neutralise_formulas,
    read_bank,
    read_campaign,
    read_campaigns,
    record_responses,
    response_counts,
    shown_ids,
    simulated_responses,
)
from bankdata.cli import cli_user
from campaigns.audience import contact_list, ranked_audience, resolve_product, segment_audience
from campaigns.holdout import DEFAULT_CONTROL_SHARE, assign_holdout, check_control_share
from campaigns.report import campaign_report
from campaigns.training import train_uplift


def _url() -> str:
    return get_settings().database_url


def _campaign(campaign_id: int) -> Campaign:
    campaign = read_campaign(campaign_id, _url())
    if campaign is None:
        known = ", ".join(str(c.campaign_id) for c in read_campaigns(_url(), limit=10)) or "none yet"
        raise ValueError(
            f"no campaign {campaign_id} (stored: {known}); `ledgerlight campaigns list` shows them"
        )
    return campaign


def _segments(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(
            f"--segments takes segment numbers separated by commas (e.g. 1,2), got {text!r}"
        ) from None
    if not ids:
        raise ValueError("--segments needs at least one segment number (e.g. 1,2)")
    return ids


def _product_name(product_id: int) -> str:
    try:
        return resolve_product(product_id, _url())[1]
    except ValueError:
        return f"product {product_id}"


def run_create(args: argparse.Namespace) -> int:
    """Build the audience, hold out a stratified control group, store and audit the campaign."""
    try:
        share = check_control_share(args.control_share)
    except ValueError as exc:
        raise ValueError(f"--control-share: {exc}") from None
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed must be non-negative, got {args.seed}")
    if (args.segments is None) == (args.top is None):
        raise ValueError("choose the audience with --segments 1,2 or with --top N (one of them)")
    if args.model is not None and args.top is None:
        raise ValueError("--model goes with --top N (the ranking of the top N)")
    if not 1 <= args.window_days <= 3660:
        raise ValueError(f"--window-days must be 1 to 3,660 days, got {args.window_days}")
    url = _url()
    product_id, product, _ = resolve_product(args.product, url)
    if args.segments is not None:
        audience = segment_audience(_segments(args.segments), url, product_id=product_id)
    else:
        audience = ranked_audience(product_id, args.top, args.model, url)
    if audience.empty:
        raise ValueError("the audience is empty (every customer was left out); nothing stored")
    seed = secrets.randbelow(2**31) if args.seed is None else int(args.seed)
    members = audience.assign(arm=_arms(assign_holdout(audience["stratum"].to_numpy(), share, seed)))
    campaign = create_campaign(
        name=args.name, product_id=product_id, source="cli", audience=audience.attrs.get("audience", {}),
        control_share=share, seed=seed, members=members, created_by=cli_user(), window_days=args.window_days, url=url,
    )  # fmt: skip
    append_audit(
        cli_user(),
        "create_campaign",
        f"campaign {campaign.campaign_id}",
        f"{campaign.name!r}: {product}; {campaign.n_treated:,} treated, {campaign.n_control:,} control "
        f"({share:.0%}, seed {seed}); audience {json.dumps(campaign.audience, sort_keys=True)}",
        url,
    )
    print(f"campaign {campaign.campaign_id} {campaign.name!r} offers {product}: {len(members):,} customers, "
          f"{campaign.n_treated:,} to contact and {campaign.n_control:,} held out ({share:.0%} in every stratum, "
          f"seed {seed}); responses count for {campaign.window_days} days. Export the list with `ledgerlight "
          f"campaigns export {campaign.campaign_id} --out FILE.csv`")  # fmt: skip
    return 0


def _arms(treated: Any) -> list[str]:
    """``treated``/``control`` of each boolean."""
    return ["treated" if t else "control" for t in treated]


def _row(c: Campaign, responses: int) -> dict[str, Any]:
    return {"campaign_id": c.campaign_id, "name": c.name, "product_id": c.product_id,
            "product": _product_name(c.product_id), "source": c.source, "created_at": c.created_at.isoformat(),
            "created_by": c.created_by, "n_treated": c.n_treated, "n_control": c.n_control,
            "control_share": c.control_share, "window_days": c.window_days, "responses": responses,
            "audience": c.audience}  # fmt: skip


def run_list(args: argparse.Namespace) -> int:
    """The stored campaigns, newest first."""
    url = _url()
    counts = response_counts(url)
    rows = [_row(c, counts.get(c.campaign_id, 0)) for c in read_campaigns(url)]
    if args.json:
        print(json.dumps(rows, default=str))
        return 0
    if not rows:
        print(
            "no campaigns yet: `ledgerlight campaigns create --name N --product P --segments 1,2` makes one"
        )
        return 0
    print(f"{'id':>4}  {'name':<28} {'product':<20} {'created (UTC)':<16} {'treated':>8} {'control':>8} "
          f"{'responses':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['campaign_id']:>4}  {r['name'][:28]:<28} {r['product'][:20]:<20} {r['created_at'][:16]:<16} "
              f"{r['n_treated']:>8,} {r['n_control']:>8,} {r['responses']:>9,}")  # fmt: skip
    return 0


def _check_money(args: argparse.Namespace) -> None:
    for flag, value in (("--cost", args.cost), ("--margin", args.margin)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"{flag} must be a non-negative number, got {value}")
    if args.margin is not None and args.cost is None:
        raise ValueError("--margin needs --cost (the cost of one contact)")


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:+.2%}"


def show_lines(campaign: Campaign, report: dict[str, Any]) -> list[str]:
    """The text of ``campaigns show``."""
    o = report["overall"]
    lines = [f"campaign {campaign.campaign_id} {campaign.name!r}: {_product_name(campaign.product_id)}, created "
             f"{campaign.created_at:%Y-%m-%d %H:%M} UTC by {campaign.created_by}; responses until "
             f"{campaign.window_ends_at:%Y-%m-%d}; {report['responses']:,} response(s) recorded"]  # fmt: skip
    lines.append(f"take-up {o['takeup_treated']:.2%} of {o['n_treated']:,} treated vs {o['takeup_control']:.2%} of "
                 f"{o['n_control']:,} control: uplift {_pct(o['uplift'])} (95% CI {_pct(o['uplift_low'])} to "
                 f"{_pct(o['uplift_high'])})" + ("  (small: do not read)" if o.get("small") else ""))  # fmt: skip
    for seg in report["segments"]:
        flag = "  (small group: do not read)" if seg["small"] else ""
        lines.append(
            f"  {seg['segment']:>16}: {seg['n_treated']:,} treated, {seg['n_control']:,} control, uplift "
            f"{_pct(seg['uplift'])} ({_pct(seg['uplift_low'])} to {_pct(seg['uplift_high'])}){flag}"
        )
    if "qini" in report:
        tops = ", ".join(f"top {p}% {_pct(report.get(f'uplift_top_{p}'))}" for p in (10, 20, 30))
        lines.append(f"Qini of the ranking used: {report['qini']:.4f}; uplift at the {tops}")
    elif not report["ranked"]:
        lines.append("no Qini: the audience was not ranked (a segment audience)")
    if "economics" in report:
        e = report["economics"]
        per = e.get("cost_per_incremental")
        lines.append(f"cost {e['cost']:,.0f}; {e['incremental']:,.1f} incremental customers; cost per incremental "
                     + (f"{per:,.2f}" if per is not None else "n/a (no measured uplift)")
                     + (f"; net {e['net']:,.0f}" if e.get("net") is not None else ""))  # fmt: skip
    return lines


def run_show(args: argparse.Namespace) -> int:
    """The campaign's measurement (``campaign_report``)."""
    _check_money(args)
    campaign = _campaign(args.campaign_id)
    report = campaign_report(campaign_outcomes(campaign.campaign_id, _url()), cost_per_contact=args.cost,
                             margin=args.margin)  # fmt: skip
    if args.json:
        print(json.dumps({"campaign": _row(campaign, report["responses"]), "report": report}, default=str))
        return 0
    print("\n".join(show_lines(campaign, report)))
    return 0


def _write_csv(frame: pd.DataFrame, out: Path) -> None:
    """Write ``frame`` next to ``out`` first and rename it into place (a failure leaves no half file)."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise ValueError(f"--out must name a .csv file, got {out}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out: no folder {out.parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_export(args: argparse.Namespace) -> int:
    """Write the treated members (the control group is kept, never exported); audited."""
    campaign = _campaign(args.campaign_id)
    frame = contact_list(campaign.campaign_id, _url())
    _write_csv(frame, args.out)
    append_audit(cli_user(), "export_campaign", f"campaign {campaign.campaign_id}",
                 f"{len(frame):,} treated customers to {Path(args.out).name}", _url())  # fmt: skip
    print(f"wrote {len(frame):,} customers to contact (treated, in rank order) to {args.out}; the "
          f"{campaign.n_control:,} held out are kept for the measurement")  # fmt: skip
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Write the demo bank's simulated responses of a campaign as a responses file."""
    campaign = _campaign(args.campaign_id)
    url = _url()
    bank = read_bank(url, with_truth=True)
    if bank.truth is None:
        raise ValueError("campaigns simulate draws responses from the demo bank's ground truth, and this bank has "
                         "none (your own data): load the real responses with `ledgerlight load responses FILE "
                         f"--campaign {campaign.campaign_id}`")  # fmt: skip
    drawn = simulated_responses(campaign.campaign_id, bank, seed=args.seed, url=url)
    frame = pd.DataFrame(
        {
            "customer_id": shown_ids("customer", drawn["customer_id"], url).to_numpy(),
            "product": _product_name(campaign.product_id),
            "responded_at": pd.to_datetime(drawn["responded_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    _write_csv(neutralise_formulas(frame), args.out)
    print(f"wrote {len(frame):,} simulated take-ups of campaign {campaign.campaign_id} to {args.out} (drawn from "
          f"the demo bank's true baseline and uplift); load them with `ledgerlight load responses {args.out} "
          f"--campaign {campaign.campaign_id}`")  # fmt: skip
    return 0


def run_record_holdings(args: argparse.Namespace) -> int:
    """Record as responses the members' purchases of the product within the window; audited."""
    campaign = _campaign(args.campaign_id)
    url = _url()
    done = record_responses(campaign.campaign_id, holdings_responses(campaign.campaign_id, url), source="holdings",
                            url=url)  # fmt: skip
    append_audit(cli_user(), "record_responses", f"campaign {campaign.campaign_id}", f"holdings: {done.describe()}",
                 url)  # fmt: skip
    print(f"campaign {campaign.campaign_id}, from the bank's holdings: {done.describe()}")
    return 0


def run_train_uplift(args: argparse.Namespace) -> int:
    """Fit, save and publish the uplift model from the stored campaigns' responses; audited."""
    url = _url()
    products = None if args.product is None else [resolve_product(args.product, url)[0]]
    artifact, written = train_uplift(read_bank(url), products, url=url, seed=args.seed)
    extra = artifact.metadata["extra"]
    for product_id in extra["products"]:
        c = extra["counts"][str(product_id)]
        print(f"{_product_name(product_id)}: learned from campaign(s) "
              f"{', '.join(map(str, extra['campaigns'][str(product_id)]))}: {c['n_treated']:,} treated "
              f"({c['responders_treated']:,} responded), {c['n_control']:,} control "
              f"({c['responders_control']:,} responded)")  # fmt: skip
    for problem in extra.get("left_out", []):
        print(f"left out: {problem}")
    append_audit(
        cli_user(),
        "train_uplift",
        f"uplift {artifact.version}",
        f"products {', '.join(map(str, extra['products']))}; {written:,} ranked rows published",
        url,
    )
    print(f"uplift {artifact.version} is served: {written:,} customers ranked by predicted uplift in "
          f"uplift_candidates; rank by it with `ledgerlight campaigns create --top N --model uplift`")  # fmt: skip
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the stored-campaign actions to ``ledgerlight campaigns``."""
    create = sub.add_parser("create", help="a campaign from served segments or a ranked list, with a stratified "
                                           "random holdout; stored and audited")  # fmt: skip
    create.add_argument("--name", required=True, help="the campaign's name")
    create.add_argument("--product", required=True, help="the product offered: its name or id")
    create.add_argument("--segments", metavar="1,2", help="the customers of these served segments")
    create.add_argument("--top", type=int, metavar="N", help="the N best-ranked customers for the product")
    create.add_argument("--model", help="with --top: the ranking (a recommender model such as als, mf, ease, or "
                                        "uplift); default the recommender's best")  # fmt: skip
    create.add_argument(
        "--control-share",
        type=float,
        default=DEFAULT_CONTROL_SHARE,
        metavar="F",
        help="share held out in every stratum (default 0.1)",
    )
    create.add_argument("--seed", type=int, help="seed of the holdout (default: a random one, stored)")
    create.add_argument(
        "--window-days",
        type=int,
        default=90,
        metavar="D",
        help="days after creation a take-up counts as a response (default 90)",
    )
    create.set_defaults(func=run_create)

    listing = sub.add_parser("list", help="the stored campaigns, newest first")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=run_list)

    show = sub.add_parser(
        "show", help="a campaign's take-up, uplift with its 95%% interval, per stratum, and Qini"
    )
    show.add_argument(
        "campaign_id", type=int, metavar="ID", help="the campaign (`ledgerlight campaigns list`)"
    )
    show.add_argument(
        "--cost", type=float, metavar="C", help="cost of one contact: adds cost per incremental"
    )
    show.add_argument("--margin", type=float, metavar="M", help="margin per take-up (with --cost): adds net")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(func=run_show)

    export = sub.add_parser(
        "export", help="the customers to contact (treated only, rank order) as CSV; audited"
    )
    export.add_argument(
        "campaign_id", type=int, metavar="ID", help="the campaign (`ledgerlight campaigns list`)"
    )
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="the contact list: treated customers only, best first (the holdout is never exported)",
    )
    export.set_defaults(func=run_export)

    simulate = sub.add_parser("simulate", help="demo bank: write the campaign's responses drawn from the ground "
                                               "truth, as a file for `ledgerlight load responses`")  # fmt: skip
    simulate.add_argument("campaign_id", type=int, metavar="ID", help="a campaign made on the demo bank")
    simulate.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="where to write the simulated responses (customer_id, product, responded_at)",
    )
    simulate.add_argument("--seed", type=int, help="seed of the draws (default: the campaign's id)")
    simulate.set_defaults(func=run_simulate)

    holdings = sub.add_parser("record-holdings", help="record the members' purchases of the product within the "
                                                      "window as responses; audited")  # fmt: skip
    holdings.add_argument(
        "campaign_id", type=int, metavar="ID", help="the campaign (`ledgerlight campaigns list`)"
    )
    holdings.set_defaults(func=run_record_holdings)

    train = sub.add_parser("train-uplift", help="fit the uplift model on the stored campaigns' treated and control "
                                                "responses; save, serve and publish its ranking")  # fmt: skip
    train.add_argument("--product", help="only this product (default: every product with enough responses)")
    train.add_argument("--seed", type=int, default=0, help="seed of the models (default 0)")
    train.set_defaults(func=run_train_uplift)

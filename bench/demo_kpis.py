#!/usr/bin/env python3
"""KPIs of a demo database, computed with the definitions of DOMAIN.md ("KPI definitions",
"Exact readings"), over the whole history up to the load's "now".

    python3 bench/demo_kpis.py /tmp/demo-h.db [--json]

Times are stored in UTC (RFC 3339 text); local dates are Asia/Shanghai (UTC+8, no DST).
Cancelled orders count nowhere. Groups: the owning leaf unit (a store, or the partner for
partner orders); a technician through the order's first visit.
"""
import json
import math
import sqlite3
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=8))
FIELD = ("install", "repair_onsite", "replacement", "maintenance", "inspection")
REPAIR = ("repair_onsite", "repair_phone")


def ts(s):
    if s is None:
        return None
    s = s.strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    # Python < 3.11 takes at most 6 fraction digits.
    if "." in s:
        head, rest = s.split(".", 1)
        frac = "".join(c for c in rest if c.isdigit())
        tail = rest[len(frac):]
        s = f"{head}.{frac[:6].ljust(6, '0')}{tail}"
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t


def local_date(t):
    return t.astimezone(TZ).date()


def month(t):
    return t.astimezone(TZ).strftime("%Y-%m")


def rate(num, den):
    """Percentage with one decimal, half away from zero; None without a denominator."""
    if den == 0:
        return None
    return math.floor(1000.0 * num / den + 0.5) / 10.0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if n == 0:
        return None
    if n % 2:
        return xs[n // 2]
    return (xs[n // 2 - 1] + xs[n // 2]) / 2


def p90(xs):
    xs = sorted(xs)
    if not xs:
        return None
    return xs[math.ceil(0.9 * len(xs)) - 1]


def r1(x):
    return None if x is None else round(x, 1)


def load(db):
    c = sqlite3.connect(db)
    c.row_factory = sqlite3.Row
    now = None
    row = c.execute(
        "SELECT at FROM audit_log WHERE action = 'demo_load' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row:
        now = ts(row["at"])
    units = {r["id"]: r["name"] for r in c.execute("SELECT id, name FROM org_units")}
    techs = {
        r["id"]: (r["username"], r["org_unit_id"], r["skills"])
        for r in c.execute(
            "SELECT t.id, u.username, t.org_unit_id, t.skills FROM technicians t "
            "JOIN users u ON u.id = t.user_id"
        )
    }
    orders = {}
    for r in c.execute(
        "SELECT wo.*, p.category FROM work_orders wo LEFT JOIN devices d ON d.id = wo.device_id "
        "LEFT JOIN products p ON p.id = d.product_id"
    ):
        o = dict(r)
        for k in ("created_at", "accepted_at", "completed_at", "cancelled_at", "arrive_by"):
            o[k] = ts(o[k])
        o["visits"] = []
        o["group"] = o["partner_unit_id"] or o["org_unit_id"]
        orders[o["id"]] = o
    if now is None:
        now = max(o["created_at"] for o in orders.values())
    visits = []
    for r in c.execute("SELECT * FROM visits ORDER BY work_order_id, seq"):
        v = dict(r)
        for k in ("departed_at", "arrived_at", "left_at"):
            v[k] = ts(v[k])
        visits.append(v)
        orders[v["work_order_id"]]["visits"].append(v)
    for o in orders.values():
        arrived = [v for v in o["visits"] if v["arrived_at"] is not None]
        o["first"] = arrived[0] if arrived else None
    shifts = defaultdict(dict)
    for r in c.execute("SELECT technician_id, day, starts_at, ends_at FROM shifts"):
        shifts[r["technician_id"]][r["day"][:10]] = (ts(r["starts_at"]), ts(r["ends_at"]))
    follow_ups = [dict(r) for r in c.execute("SELECT * FROM follow_ups")]
    for f in follow_ups:
        f["at"] = ts(f["at"])
    complaints = [dict(r) for r in c.execute("SELECT * FROM complaints")]
    for k in complaints:
        for f in ("created_at", "closed_at", "due_at"):
            k[f] = ts(k[f])
    charges = defaultdict(int)
    for r in c.execute(
        "SELECT work_order_id, SUM(amount_fen) FROM charges WHERE payer = 'customer' "
        "GROUP BY work_order_id"
    ):
        charges[r[0]] += r[1]
    parts = defaultdict(int)
    parts_all = defaultdict(int)
    for r in c.execute(
        "SELECT work_order_id, payer, SUM(qty * unit_price_fen) FROM part_lines "
        "GROUP BY work_order_id, payer"
    ):
        parts_all[r[0]] += r[2]
        if r[1] == "customer":
            parts[r[0]] += r[2]
    n_devices = c.execute("SELECT COUNT(*) FROM devices").fetchone()[0]
    return dict(
        now=now,
        units=units,
        techs=techs,
        orders=orders,
        visits=visits,
        shifts=shifts,
        follow_ups=follow_ups,
        complaints=complaints,
        charges=charges,
        parts=parts,
        parts_all=parts_all,
        n_devices=n_devices,
    )


def kpis(d):
    now, units, techs, orders = d["now"], d["units"], d["techs"], d["orders"]
    live = [o for o in orders.values() if o["status"] != "cancelled"]
    tname = lambda t: techs[t][0] if t in techs else "partner"  # noqa: E731
    out = {"now": now.isoformat(), "orders": len(orders), "cancelled": len(orders) - len(live)}
    start = min(o["created_at"] for o in orders.values())
    days = (now - start).total_seconds() / 86400.0
    out["days"] = round(days, 1)

    # ---- arrival compliance: field orders whose arrive_by has passed; first visit ≤ arrive_by.
    arr = defaultdict(lambda: [0, 0])
    for o in live:
        if o["kind"] not in FIELD or o["arrive_by"] > now:
            continue
        f = o["first"]
        ok = int(f is not None and f["arrived_at"] <= o["arrive_by"])
        keys = ["all", "unit:" + units[o["group"]]]
        if f is not None:
            keys.append("tech:" + tname(f["technician_id"]))
        keys.append("priority:" + o["priority"])
        for k in keys:
            arr[k][0] += ok
            arr[k][1] += 1
    out["arrival_compliance"] = {k: rate(*v) for k, v in sorted(arr.items())}

    # ---- repair cycle (hours) of repair orders completed; by completion month.
    cyc = [
        (o, (o["completed_at"] - o["created_at"]).total_seconds() / 3600.0)
        for o in live
        if o["kind"] in REPAIR and o["completed_at"] is not None
    ]
    hs = [h for _, h in cyc]
    by_m = defaultdict(list)
    for o, h in cyc:
        by_m[month(o["completed_at"])].append(h)
    onsite = [h for o, h in cyc if o["kind"] == "repair_onsite"]
    out["repair_cycle_h"] = {
        "median": r1(median(hs)),
        "p90": r1(p90(hs)),
        "onsite_median": r1(median(onsite)),
        "onsite_p90": r1(p90(onsite)),
        "p90_by_month": {m: r1(p90(v)) for m, v in sorted(by_m.items())},
    }
    openo = [o for o in live if o["completed_at"] is None]
    out["open_orders"] = len(openo)
    out["open_over_30_days"] = sum(
        1 for o in openo if o["created_at"] < now - timedelta(days=30)
    )
    out["open_by_unit"] = dict(
        sorted(
            (units[g], sum(1 for o in openo if o["group"] == g))
            for g in {o["group"] for o in openo}
        )
    )

    # ---- calls per technician-day: visits (by arrival date) ÷ days with a shift (up to today).
    today = local_date(now)
    first_day = local_date(start)
    per = {}
    off_shift = [0, 0]
    onsite_h = []
    for t in sorted(techs):
        sh = {
            day
            for day in d["shifts"].get(t, {})
            if first_day.isoformat() <= day <= today.isoformat()
        }
        vs = [v for v in d["visits"] if v["technician_id"] == t and v["arrived_at"] is not None]
        off = sum(1 for v in vs if local_date(v["arrived_at"]).isoformat() not in sh)
        off_shift[0] += off
        off_shift[1] += len(vs)
        per[tname(t)] = {
            "skills": techs[t][2],
            "calls_per_day": round(len(vs) / len(sh), 2) if sh else None,
            "visits": len(vs),
            "shift_days": len(sh),
            "visits_off_shift": off,
        }
    out["technicians"] = per
    out["visits_off_shift_pct"] = rate(*off_shift)
    shift_h = sum(
        (e - s).total_seconds() / 3600.0
        for t in techs
        for day, (s, e) in d["shifts"].get(t, {}).items()
        if first_day.isoformat() <= day <= today.isoformat()
    )
    shift_days = sum(v["shift_days"] for v in per.values())
    for v in d["visits"]:
        if v["arrived_at"] is not None and v["left_at"] is not None and v["technician_id"]:
            onsite_h.append((v["left_at"] - v["arrived_at"]).total_seconds() / 3600.0)
    out["on_site_h_per_visit"] = {
        "mean": r1(sum(onsite_h) / len(onsite_h)) if onsite_h else None,
        "median": r1(median(onsite_h)),
        "per_technician_day": r1(sum(onsite_h) / shift_days) if shift_days else None,
        "effective_share_pct": rate(sum(onsite_h), shift_h),
    }
    # How late the late first arrivals were (minutes).
    lates = [
        (o["first"]["arrived_at"] - o["arrive_by"]).total_seconds() / 60.0
        for o in live
        if o["kind"] in FIELD and o["first"] is not None
        and o["first"]["arrived_at"] > o["arrive_by"]
    ]
    out["late_arrival_min"] = {"n": len(lates), "median": r1(median(lates)),
                               "p90": r1(p90(lates))}
    # ---- response time (minutes) over orders accepted, by priority.
    resp = defaultdict(list)
    for o in live:
        if o["accepted_at"] is not None:
            m = (o["accepted_at"] - o["created_at"]).total_seconds() / 60.0
            resp[o["priority"]].append(m)
            resp["all"].append(m)
    out["response_min"] = {
        k: {"median": r1(median(v)), "p90": r1(p90(v)), "n": len(v)} for k, v in resp.items()
    }
    urg = resp.get("urgent", [])
    out["urgent_within_30_min_pct"] = rate(sum(1 for m in urg if m <= 30), len(urg))

    # ---- satisfaction against the service.
    sat = defaultdict(lambda: [0, 0])
    for f in d["follow_ups"]:
        o = orders[f["work_order_id"]]
        bad = int(f["rating"] == "dissatisfied")
        sat["all"][0] += bad
        sat["all"][1] += 1
        fv = o["first"]
        if fv is not None and o["kind"] in FIELD:
            k = "late" if fv["arrived_at"] > o["arrive_by"] else "on_time"
            sat[k][0] += bad
            sat[k][1] += 1
        if o["kind"] == "repair_onsite" and fv is not None and fv["outcome"] != "customer_absent":
            k = "first_visit_fixed" if fv["outcome"] == "fixed" else "first_visit_failed"
            sat[k][0] += bad
            sat[k][1] += 1
    out["dissatisfied_pct"] = {k: rate(*v) for k, v in sat.items()}
    out["dissatisfied_n"] = {k: v for k, v in sat.items()}

    # ---- complaints: close time, late against the due time.
    cl = [k for k in d["complaints"] if k["closed_at"] is not None]
    hrs = [(k["closed_at"] - k["created_at"]).total_seconds() / 3600.0 for k in cl]
    late = sum(1 for k in cl if k["due_at"] is not None and k["closed_at"] > k["due_at"])
    out["complaints"] = {
        "n": len(d["complaints"]),
        "closed": len(cl),
        "open": len(d["complaints"]) - len(cl),
        "close_h_median": r1(median(hrs)),
        "close_h_p10": r1(sorted(hrs)[len(hrs) // 10]) if hrs else None,
        "close_h_p90": r1(p90(hrs)),
        "distinct_close_h": len({round(h, 1) for h in hrs}),
        "closed_late_pct": rate(late, len(cl)),
        "by_severity": dict(
            defaultdict(int, {s: sum(1 for k in d["complaints"] if k["severity"] == s)
                              for s in {k["severity"] for k in d["complaints"]}})
        ),
    }

    # Office work at night: local hour outside 08:00-21:00 of complaint closes and order closes
    # by the follow-up clerk.
    night = lambda t: not (8 <= t.astimezone(TZ).hour < 21)  # noqa: E731
    out["complaints"]["closed_at_night_pct"] = rate(sum(1 for k in cl if night(k["closed_at"])),
                                                    len(cl))
    closes = [ts(o["closed_at"]) for o in live if o["closed_at"]]
    out["orders_closed_at_night_pct"] = rate(sum(1 for t in closes if night(t)), len(closes))

    # ---- money on out-of-warranty orders (completed, field).
    oow = [
        o
        for o in live
        if o["warranty_decision"] == "out_of_warranty" and o["completed_at"] is not None
    ]
    oow_field = [o for o in oow if o["kind"] != "repair_phone"]
    paid = [o for o in oow_field if d["charges"][o["id"]] > 0]
    with_parts = [o for o in oow_field if d["parts"][o["id"]] > 0]
    out["out_of_warranty"] = {
        "completed": len(oow),
        "completed_field": len(oow_field),
        "with_customer_charge_pct": rate(len(paid), len(oow_field)),
        "with_customer_parts_pct": rate(len(with_parts), len(oow_field)),
        "customer_fen": sum(d["charges"][o["id"]] + d["parts"][o["id"]] for o in oow_field),
        "customer_yuan_per_order": round(
            sum(d["charges"][o["id"]] + d["parts"][o["id"]] for o in oow_field)
            / 100.0 / max(1, len(oow_field)), 1),
    }
    out["warranty_mix_pct"] = {
        w: rate(sum(1 for o in live if o["warranty_decision"] == w), len(live))
        for w in sorted({o["warranty_decision"] for o in live})
    }

    # ---- installed base: orders per device per year, devices with no order in the last year.
    year_ago = now - timedelta(days=365)
    in_year = [o for o in live if o["created_at"] >= year_ago and o["device_id"]]
    devs = defaultdict(int)
    for o in in_year:
        devs[o["device_id"]] += 1
    n = d["n_devices"]
    span = min(days, 365.0)
    out["installed_base"] = {
        "devices": n,
        "orders_per_device_year": round(len(in_year) / n * 365.0 / span, 2) if n else None,
        "orders_per_serviced_device": round(len(in_year) / max(1, len(devs)), 2),
        "devices_without_order_pct": rate(n - len(devs), n),
    }

    # ---- first-time fix by store by month (completion month), and by technician.
    ftf = defaultdict(lambda: [0, 0])
    for o in live:
        if o["kind"] != "repair_onsite" or o["completed_at"] is None:
            continue
        fv = o["first"]
        if fv is None or fv["outcome"] == "customer_absent":
            continue
        ok = int(fv["outcome"] == "fixed")
        for k in (
            "all",
            "unit:" + units[o["group"]],
            "unit:" + units[o["group"]] + ":" + month(o["completed_at"]),
            "tech:" + tname(fv["technician_id"]),
        ):
            ftf[k][0] += ok
            ftf[k][1] += 1
    out["first_time_fix"] = {k: rate(*v) for k, v in sorted(ftf.items())}

    # ---- repeat repair: a repair order completed on a device that gets another (non-cancelled)
    # repair order created within 30 days after that completion; charged to the first visit's
    # technician.
    by_dev = defaultdict(list)
    for o in live:
        if o["kind"] in REPAIR and o["device_id"]:
            by_dev[o["device_id"]].append(o)
    rep = defaultdict(lambda: [0, 0])
    for o in live:
        if o["kind"] not in REPAIR or o["completed_at"] is None:
            continue
        c = o["completed_at"]
        again = any(
            x["id"] != o["id"] and c < x["created_at"] <= c + timedelta(days=30)
            for x in by_dev[o["device_id"]]
        )
        fv = o["first"]
        keys = ["all"]
        if fv is not None:
            keys.append("tech:" + tname(fv["technician_id"]))
        for k in keys:
            rep[k][0] += int(again)
            rep[k][1] += 1
    out["repeat_repair_pct"] = {k: rate(*v) for k, v in sorted(rep.items())}

    # ---- season: orders created per month, refrigeration's share.
    season = defaultdict(lambda: [0, 0])
    for o in live:
        m = month(o["created_at"])
        season[m][1] += 1
        season[m][0] += int(o["category"] == "refrigeration")
    out["orders_by_month"] = {m: {"orders": v[1], "refrigeration_pct": rate(*v)}
                              for m, v in sorted(season.items())}
    return out


def show(k):
    p = print
    p(f"now {k['now']}  days {k['days']}  orders {k['orders']} (cancelled {k['cancelled']})")
    a = k["arrival_compliance"]
    p("arrival compliance %: all", a.get("all"), " ",
      {x[5:]: v for x, v in a.items() if x.startswith("unit:")},
      {x: v for x, v in a.items() if x.startswith("priority:")})
    p("   by tech:", {x[5:]: v for x, v in a.items() if x.startswith("tech:")})
    rc = k["repair_cycle_h"]
    p(f"repair cycle h: median {rc['median']} p90 {rc['p90']} (onsite {rc['onsite_median']} / "
      f"{rc['onsite_p90']})")
    p("   p90 by month:", rc["p90_by_month"])
    p(f"open orders {k['open_orders']}, open > 30 days {k['open_over_30_days']}",
      k["open_by_unit"])
    p("calls per technician-day:")
    for t, v in k["technicians"].items():
        p(f"   {t}: {v['calls_per_day']} ({v['visits']} visits / {v['shift_days']} shift days, "
          f"{v['visits_off_shift']} off shift) {v['skills']}")
    p("visits on days without a shift %:", k["visits_off_shift_pct"])
    p("on-site h per visit:", k["on_site_h_per_visit"])
    p("late first arrivals, minutes late:", k["late_arrival_min"])
    p("response min:", k["response_min"], " urgent within 30 min %:",
      k["urgent_within_30_min_pct"])
    p("dissatisfied %:", k["dissatisfied_pct"])
    p("   n:", k["dissatisfied_n"])
    p("complaints:", k["complaints"])
    p("orders closed at night (outside 08-21 local) %:", k["orders_closed_at_night_pct"])
    p("out of warranty:", k["out_of_warranty"], " mix %:", k["warranty_mix_pct"])
    p("installed base:", k["installed_base"])
    f = k["first_time_fix"]
    p("first-time fix %: all", f.get("all"))
    for u in sorted({x.split(":")[1] for x in f if x.startswith("unit:")}):
        p(f"   {u}: {f.get('unit:' + u)}  by month:",
          " ".join(f"{x.split(':')[2][5:]}={v}" for x, v in f.items()
                   if x.startswith(f"unit:{u}:")))
    p("   by tech:", {x[5:]: v for x, v in f.items() if x.startswith("tech:")})
    r = k["repeat_repair_pct"]
    p("repeat repair %: all", r.get("all"),
      {x[5:]: v for x, v in r.items() if x.startswith("tech:")})
    p("orders by month:", " ".join(f"{m[2:]}:{v['orders']}/{v['refrigeration_pct']}%"
                                   for m, v in k["orders_by_month"].items()))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    k = kpis(load(sys.argv[1]))
    if "--json" in sys.argv:
        print(json.dumps(k, ensure_ascii=False, indent=1))
    else:
        show(k)

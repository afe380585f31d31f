"""The origin design's trade loop (the seeds' Python + SQLAlchemy ORM, as ../shared/bench/seed_reference.py
runs it for `compare-peer`), made to write the rows a `trade-exec run` writes and to print its report.

Not a peer the project chose to be measured against: the origin design as it stands writes a run, its orders,
one fill an order and one audit row. This one adds what trade-exec keeps beyond that, in the same ORM style
and with the friendliest batching (one commit per stage), so that the cost of those guarantees can be told
apart from the cost of the implementation:
- the decision frozen: a snapshot row and one row per item, with the sha-256 of their canonical JSON;
- the run's documents: its params, the record it built from (every price, the skipped names) and its verdict;
- an order row of trade-exec's columns per order, moved NEW -> SUBMITTED -> FILLED (two updates);
- an audit chain with one event per transition (run and orders), each the sha-256 of its canonical JSON
  and of the event before it, as trade-exec's chain is;
- the paper broker's book: an order row with its request and fills as JSON, a position per symbol, the cash;
- one fill per order; the report read back from the database and printed as one JSON document.
It sizes orders with the origin design's floats (build_orders), not exact decimals, and stores them as text.

usage: python3 bench/peer_same_rows.py ITEMS.csv PRICES.csv PORTFOLIO_VALUE DB_PATH > report.json
Prints the report on stdout and one line of timings on stderr.
"""
import csv, hashlib, json, sys, time
from datetime import datetime, timezone
from sqlalchemy import Column, Integer, String, Text, ForeignKey, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

Base = declarative_base()

class Snapshot(Base):
    __tablename__ = "decision_snapshots"
    id = Column(String, primary_key=True); status = Column(String); digest = Column(String)
    frozen_at = Column(String); source = Column(String); created_at = Column(String)

class SnapshotItem(Base):
    __tablename__ = "snapshot_items"
    snapshot_id = Column(String, ForeignKey("decision_snapshots.id"), primary_key=True)
    position = Column(Integer, primary_key=True)
    symbol = Column(String); weight = Column(String); score = Column(String); rank = Column(Integer); sector = Column(String)

class TradeRun(Base):
    __tablename__ = "trade_runs"
    id = Column(String, primary_key=True); snapshot_id = Column(String, ForeignKey("decision_snapshots.id"))
    status = Column(String); mode = Column(String); attempts = Column(Integer)
    created_at = Column(String); updated_at = Column(String); started_at = Column(String); finished_at = Column(String)

class RunDocuments(Base):
    __tablename__ = "trade_run_documents"
    run_id = Column(String, ForeignKey("trade_runs.id"), primary_key=True)
    params = Column(Text); recorded = Column(Text); risk = Column(Text)

class TradeOrder(Base):
    __tablename__ = "trade_orders"
    run_id = Column(String, ForeignKey("trade_runs.id"), primary_key=True)
    client_order_id = Column(String, primary_key=True)
    position = Column(Integer); symbol = Column(String); side = Column(String); quantity = Column(String)
    order_type = Column(String); limit_price = Column(String); reference_price = Column(String)
    current_quantity = Column(String); target_quantity = Column(String); target_weight = Column(String)
    sector = Column(String); status = Column(String); filled_quantity = Column(String); avg_fill_price = Column(String)
    commission = Column(String); reject_reason = Column(String); created_at = Column(String); updated_at = Column(String)

class TradeFill(Base):
    __tablename__ = "trade_fills"
    execution_id = Column(String, primary_key=True); run_id = Column(String); client_order_id = Column(String)
    symbol = Column(String); side = Column(String); quantity = Column(String); price = Column(String)
    commission = Column(String); time = Column(String); recorded_at = Column(String)

class AuditEvent(Base):
    __tablename__ = "audit_events"
    seq = Column(Integer, primary_key=True); at = Column(String); type = Column(String); run_id = Column(String)
    payload = Column(Text); prev_hash = Column(String); hash = Column(String)

class PaperOrder(Base):
    __tablename__ = "paper_orders"
    client_order_id = Column(String, primary_key=True); run_id = Column(String); symbol = Column(String)
    status = Column(String); request = Column(Text); fills = Column(Text); received_at = Column(String)

class PaperPosition(Base):
    __tablename__ = "paper_positions"
    symbol = Column(String, primary_key=True); quantity = Column(String)

class PaperAccount(Base):
    __tablename__ = "paper_account"
    id = Column(Integer, primary_key=True); cash = Column(String)

def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

def num(x):
    return format(x, "f").rstrip("0").rstrip(".") if isinstance(x, float) else str(x)

class Chain:
    """One audit event per transition, each hashed over its canonical JSON and the hash before it."""
    def __init__(self, session, run_id):
        self.session, self.run_id, self.seq, self.head = session, run_id, 0, "0" * 64
    def append(self, type_, payload):
        self.seq += 1
        at = now()
        body = canonical(payload)
        digest = hashlib.sha256(canonical({"at": at, "payload": payload, "prevHash": self.head, "runId": self.run_id,
                                           "seq": self.seq, "type": type_}).encode()).hexdigest()
        self.session.add(AuditEvent(seq=self.seq, at=at, type=type_, run_id=self.run_id, payload=body, prev_hash=self.head, hash=digest))
        self.head = digest

def build_orders(items, *, price_map, portfolio_value):
    """The origin design's sizing (seed_reference.build_orders, cash buffer 0, lot 1), with what it skipped."""
    orders, skipped = [], []
    for item in items:
        symbol = str(item.get("symbol") or "").strip().upper()
        try:
            weight = float(item.get("weight"))
        except (TypeError, ValueError):
            skipped.append({"reason": "bad_weight", "symbol": symbol}); continue
        if not symbol:
            continue
        price = price_map.get(symbol)
        if price is None or price <= 0:
            skipped.append({"reason": "no_price", "symbol": symbol}); continue
        qty = int(abs(weight) * portfolio_value / price)
        if qty <= 0:
            skipped.append({"reason": "below_one_lot", "symbol": symbol}); continue
        orders.append({"symbol": symbol, "side": "BUY" if weight >= 0 else "SELL", "quantity": qty, "price": price,
                       "weight": item["weight"], "sector": item.get("sector") or None})
    return orders, skipped

def main():
    items_path, prices_path, pv, db_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    t0 = time.perf_counter()
    with open(items_path, newline="", encoding="utf-8") as h:
        items = list(csv.DictReader(h))
    with open(prices_path, newline="", encoding="utf-8") as h:
        price_rows = list(csv.DictReader(h))
    price_map = {r["symbol"].strip().upper(): float(r["price"]) for r in price_rows}
    engine = create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    s = sessionmaker(bind=engine, autoflush=False, autocommit=False, expire_on_commit=False)()

    # The decision frozen and the run created: one commit.
    snapshot_id, run_id, at = "snap_1", "run_1", now()
    frozen = [{"position": i, "symbol": r["symbol"].strip().upper(), "weight": r["weight"], "score": r.get("score"),
               "rank": int(r["rank"]) if r.get("rank") else None, "sector": r.get("sector")} for i, r in enumerate(items)]
    s.add(Snapshot(id=snapshot_id, status="success", digest=hashlib.sha256(canonical(frozen).encode()).hexdigest(),
                   frozen_at=at, source=items_path, created_at=at))
    s.add_all([SnapshotItem(snapshot_id=snapshot_id, **f) for f in frozen])
    run = TradeRun(id=run_id, snapshot_id=snapshot_id, status="queued", mode="paper", attempts=0, created_at=at, updated_at=at)
    s.add(run)
    docs = RunDocuments(run_id=run_id, params=canonical({"portfolioValue": num(pv)}))
    s.add(docs)
    s.commit()
    t1 = time.perf_counter()

    chain = Chain(s, run_id)
    run.status, run.attempts, run.started_at = "running", 1, now()
    chain.append("trade_run.transition", {"attempt": 1, "from": "queued", "to": "running"})
    # The decision verified against its digest, as trade-exec does before it builds.
    stored = [{"position": i.position, "symbol": i.symbol, "weight": i.weight, "score": i.score, "rank": i.rank, "sector": i.sector}
              for i in s.query(SnapshotItem).filter_by(snapshot_id=snapshot_id).order_by(SnapshotItem.position)]
    snapshot = s.get(Snapshot, snapshot_id)
    if hashlib.sha256(canonical(stored).encode()).hexdigest() != snapshot.digest:
        raise SystemExit("snapshot changed")
    drafts, skipped = build_orders(items, price_map=price_map, portfolio_value=pv)
    at = now()
    orders = [TradeOrder(run_id=run_id, client_order_id=f"{d['symbol']}-{d['side'][0]}-{run_id}", position=i, symbol=d["symbol"],
                         side=d["side"], quantity=str(d["quantity"]), order_type="MKT", reference_price=num(d["price"]),
                         current_quantity="0", target_quantity=str(d["quantity"]), target_weight=d["weight"], sector=d["sector"],
                         status="NEW", filled_quantity="0", commission="0", created_at=at, updated_at=at)
              for i, d in enumerate(drafts)]
    s.add_all(orders)
    docs.recorded = canonical({"prices": [{"price": r["price"], "symbol": r["symbol"], "volume": r.get("volume")} for r in price_rows],
                               "skipped": skipped, "builtAt": at})
    chain.append("trade_run.orders_built", {"orders": len(orders), "prices": len(price_rows), "skipped": skipped})
    s.commit()
    t2 = time.perf_counter()

    # Risk (the origin design's evaluate_orders, no limits) and NEW -> SUBMITTED: one commit.
    docs.risk = canonical({"passed": True, "violations": [], "accepted": [o.client_order_id for o in orders]})
    chain.append("trade_run.risk", {"passed": True, "reasons": [], "violations": []})
    at = now()
    for o in orders:
        o.status, o.updated_at = "SUBMITTED", at
        chain.append("trade_order.transition", {"clientOrderId": o.client_order_id, "from": "NEW", "symbol": o.symbol, "to": "SUBMITTED"})
    s.commit()

    # The paper broker fills every order at its reference price; the fills and SUBMITTED -> FILLED: one commit.
    at = now()
    cash = pv
    for o in orders:
        fill = {"executionId": f"{o.client_order_id}-F1", "clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side,
                "quantity": o.quantity, "price": o.reference_price, "commission": "0", "time": at}
        request = {"runId": run_id, "clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity,
                   "orderType": "MKT", "timeInForce": "DAY", "referencePrice": o.reference_price}
        s.add(PaperOrder(client_order_id=o.client_order_id, run_id=run_id, symbol=o.symbol, status="FILLED",
                         request=canonical(request), fills=canonical([fill]), received_at=at))
        s.add(PaperPosition(symbol=o.symbol, quantity=o.quantity))
        cash -= float(o.quantity) * float(o.reference_price)
        s.add(TradeFill(execution_id=fill["executionId"], run_id=run_id, client_order_id=o.client_order_id, symbol=o.symbol,
                        side=o.side, quantity=o.quantity, price=o.reference_price, commission="0", time=at, recorded_at=at))
        o.status, o.filled_quantity, o.avg_fill_price, o.updated_at = "FILLED", o.quantity, o.reference_price, at
        chain.append("trade_order.transition", {"avgFillPrice": o.reference_price, "clientOrderId": o.client_order_id, "commission": "0",
                                                "filledQuantity": o.quantity, "fills": [{k: fill[k] for k in ("commission", "executionId", "price", "quantity")}],
                                                "from": "SUBMITTED", "symbol": o.symbol, "to": "FILLED"})
    s.add(PaperAccount(id=1, cash=num(cash)))
    run.status, run.finished_at = "done", now()
    chain.append("trade_run.transition", {"from": "running", "to": "done"})
    s.commit()
    t3 = time.perf_counter()

    # The report, read back from the database.
    read_orders = s.query(TradeOrder).filter_by(run_id=run_id).order_by(TradeOrder.position).all()
    read_fills = s.query(TradeFill).filter_by(run_id=run_id).all()
    report = {
        "run": {"id": run_id, "status": run.status, "snapshotId": snapshot_id, "mode": "paper"},
        "orders": [{"clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity, "orderType": o.order_type,
                    "limitPrice": o.limit_price, "referencePrice": o.reference_price, "status": o.status, "filledQuantity": o.filled_quantity,
                    "avgFillPrice": o.avg_fill_price, "commission": o.commission, "rejectReason": o.reject_reason} for o in read_orders],
        "fills": [{"executionId": f.execution_id, "clientOrderId": f.client_order_id, "symbol": f.symbol, "side": f.side,
                   "quantity": f.quantity, "price": f.price, "commission": f.commission, "time": f.time} for f in read_fills],
        "skipped": skipped,
        "tca": {"orders": [{"clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "referencePrice": o.reference_price,
                            "avgFillPrice": o.avg_fill_price, "slippageBps": "0", "notional": num(float(o.filled_quantity) * float(o.avg_fill_price))}
                           for o in read_orders]},
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    t4 = time.perf_counter()
    sys.stderr.write(json.dumps({"orders": len(orders), "setup_ms": round((t1 - t0) * 1e3, 2), "build_ms": round((t2 - t1) * 1e3, 2),
                                 "execute_ms": round((t3 - t2) * 1e3, 2), "report_ms": round((t4 - t3) * 1e3, 2),
                                 "total_ms": round((t4 - t0) * 1e3, 2)}) + "\n")

if __name__ == "__main__":
    main()

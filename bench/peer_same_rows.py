"""The origin design's trade loop (the Python + SQLAlchemy ORM sketch this project replaces, which the planning
repository's `compare-peer` times as it stands), made to write the rows a `trade-exec run` writes and to print
its report. evaluate_orders is that design's own function, and build_orders its sizing (cash buffer 0, lot 1)
with the names it skipped kept.

Not a peer the project chose to be measured against: the origin design as it stands writes a run, its orders,
one fill an order and one audit row. This one adds what trade-exec keeps beyond that, in the same ORM style,
so that the cost of those guarantees can be told apart from the cost of the implementation:
- the decision frozen: a snapshot row and one row per item, with the sha-256 of their canonical JSON;
- the run's documents: its params, the record it built from (every price, the skipped names) and its verdict;
- an order row of trade-exec's columns per order, moved NEW -> SUBMITTED -> FILLED (two updates);
- an audit chain with one event per transition (run and orders), each the sha-256 of its canonical JSON
  and of the event before it, as trade-exec's chain is;
- the paper broker's book: an order row with its request and fills as JSON, a position per symbol, the cash;
- one fill per order; the report read back from the database and printed as one JSON document;
- the orders sent in batches of 500, as trade-exec sends them: each batch marked SUBMITTED (with the batch
  before's fills and FILLED) in one commit before the broker books it in another, which reads the batch's
  book rows and positions first;
- the same SQLite settings (WAL, synchronous NORMAL, foreign keys on) and the same keys and indexes.
Where a choice was open it went the peer's way: compact JSON (Python's indented encoder is pure Python, ~150
ms slower on this report), the origin design's floats for sizing (build_orders, evaluate_orders) instead of
exact decimals, no validation of the files beyond what the origin design does, and no leases.

usage: python3 bench/peer_same_rows.py ITEMS.csv PRICES.csv PORTFOLIO_VALUE DB_PATH > report.json
Prints the report on stdout and one line of timings on stderr.
"""
import csv, hashlib, json, sys, time
from datetime import datetime, timezone
import sqlalchemy
from sqlalchemy import Column, Index, Integer, String, Text, ForeignKey, UniqueConstraint, create_engine, event
from sqlalchemy.orm import declarative_base, sessionmaker

BATCH = 500

Base = declarative_base()

class Snapshot(Base):
    __tablename__ = "decision_snapshots"
    id = Column(String, primary_key=True); status = Column(String); digest = Column(String)
    frozen_at = Column(String); source = Column(String); created_at = Column(String)

class SnapshotItem(Base):
    __tablename__ = "snapshot_items"
    __table_args__ = (UniqueConstraint("snapshot_id", "symbol"),)
    snapshot_id = Column(String, ForeignKey("decision_snapshots.id"), primary_key=True)
    position = Column(Integer, primary_key=True)
    symbol = Column(String); weight = Column(String); score = Column(String); rank = Column(Integer); sector = Column(String)
    price = Column(String)

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
    __table_args__ = (UniqueConstraint("run_id", "position"),)
    run_id = Column(String, ForeignKey("trade_runs.id"), primary_key=True)
    client_order_id = Column(String, primary_key=True)
    position = Column(Integer); symbol = Column(String); side = Column(String); quantity = Column(String)
    order_type = Column(String); limit_price = Column(String); reference_price = Column(String)
    current_quantity = Column(String); target_quantity = Column(String); target_weight = Column(String)
    sector = Column(String); status = Column(String); filled_quantity = Column(String); avg_fill_price = Column(String)
    commission = Column(String); reject_reason = Column(String); created_at = Column(String); updated_at = Column(String)

class TradeFill(Base):
    __tablename__ = "trade_fills"
    __table_args__ = (Index("trade_fills_by_run", "run_id", "client_order_id"),)
    execution_id = Column(String, primary_key=True); run_id = Column(String); client_order_id = Column(String)
    symbol = Column(String); side = Column(String); quantity = Column(String); price = Column(String)
    commission = Column(String); time = Column(String); recorded_at = Column(String)

class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("audit_events_by_run", "run_id", "seq"),)
    seq = Column(Integer, primary_key=True); at = Column(String); type = Column(String); run_id = Column(String)
    payload = Column(Text); prev_hash = Column(String); hash = Column(String)

class PaperOrder(Base):
    __tablename__ = "paper_orders"
    client_order_id = Column(String, primary_key=True); run_id = Column(String); symbol = Column(String)
    status = Column(String); request = Column(Text); fills = Column(Text); received_at = Column(String)
    last_traded_on = Column(String)

class AuditHead(Base):
    __tablename__ = "audit_head"
    id = Column(Integer, primary_key=True); seq = Column(Integer); hash = Column(String)

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
    """One audit event per transition, each hashed over its canonical JSON (keys sorted: at, payload,
    prevHash, runId, seq, type) and so over the hash before it; one timestamp per append, as trade-exec's."""
    def __init__(self, session, run_id):
        self.session, self.run_id, self.seq, self.head = session, run_id, 0, "0" * 64
        self.run_part = f',"runId":{json.dumps(run_id)},"seq":'
        self.head_row = AuditHead(id=1, seq=0, hash=self.head)
        session.add(self.head_row)
    def append(self, at, events):
        prefix = '{"at":' + json.dumps(at) + ',"payload":'
        for type_, payload in events:
            self.seq += 1
            body = canonical(payload)
            framed = f'{prefix}{body},"prevHash":"{self.head}"{self.run_part}{self.seq},"type":{json.dumps(type_)}}}'
            digest = hashlib.sha256(framed.encode()).hexdigest()
            self.session.add(AuditEvent(seq=self.seq, at=at, type=type_, run_id=self.run_id, payload=body, prev_hash=self.head, hash=digest))
            self.head = digest
        self.head_row.seq, self.head_row.hash = self.seq, self.head

def build_orders(items, *, price_map, portfolio_value):
    """The origin design's sizing (cash buffer 0, lot 1, as compare-peer runs it), with what it skipped."""
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

def evaluate_orders(orders, *, max_order_notional, max_position_ratio, portfolio_value):
    """The origin design's pre-trade check, run without limits as compare-peer runs it."""
    blocked, reasons = [], []
    for order in orders:
        notional = float(order.get("quantity") or 0) * float(order.get("price") or 0)
        if max_order_notional is not None and notional > float(max_order_notional):
            blocked.append(order); reasons.append(f"max_order_notional:{order.get('symbol')}"); continue
        if max_position_ratio is not None and portfolio_value and notional / float(portfolio_value) > float(max_position_ratio):
            blocked.append(order); reasons.append(f"max_position_ratio:{order.get('symbol')}"); continue
    return len(blocked) == 0, blocked, reasons

def settings(dbapi_connection, _record):
    # trade-exec's: WAL, synchronous NORMAL, foreign keys enforced.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL"); cursor.execute("PRAGMA synchronous = NORMAL"); cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()

def main():
    items_path, prices_path, pv, db_path = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
    t0 = time.perf_counter()
    with open(items_path, newline="", encoding="utf-8") as h:
        items = list(csv.DictReader(h))
    with open(prices_path, newline="", encoding="utf-8") as h:
        price_rows = list(csv.DictReader(h))
    price_map = {r["symbol"].strip().upper(): float(r["price"]) for r in price_rows}
    symbols = [str(r.get("symbol") or "").strip().upper() for r in items]
    if len(set(symbols)) != len(symbols):
        raise SystemExit(f"{items_path}: a symbol appears twice")
    engine = create_engine(f"sqlite:///{db_path}")
    event.listen(engine, "connect", settings)
    Base.metadata.create_all(engine)
    s = sessionmaker(bind=engine, autoflush=False, autocommit=False, expire_on_commit=False)()

    # The decision frozen and the run created: one commit.
    snapshot_id, run_id, at = "snap_1", "run_1", now()
    frozen = [{"position": i, "symbol": symbols[i], "weight": r["weight"], "score": r.get("score"),
               "rank": int(r["rank"]) if r.get("rank") else None, "sector": r.get("sector") or None, "price": None}
              for i, r in enumerate(items)]
    s.add(Snapshot(id=snapshot_id, status="success", digest=hashlib.sha256(canonical(frozen).encode()).hexdigest(),
                   frozen_at=at, source=items_path, created_at=at))
    s.flush()  # the ORM orders inserts by relationships, which these tables do not declare: parents first
    s.add_all([SnapshotItem(snapshot_id=snapshot_id, **f) for f in frozen])
    s.add(TradeRun(id=run_id, snapshot_id=snapshot_id, status="queued", mode="paper", attempts=0, created_at=at, updated_at=at))
    s.flush()
    s.add(RunDocuments(run_id=run_id, params=canonical({"portfolioValue": num(pv)})))
    s.commit()
    t1 = time.perf_counter()

    # The run taken; the decision read back and verified against its digest, as trade-exec does before it
    # builds (the session forgets what it holds, so what is read is what is stored).
    s.expunge_all()
    chain = Chain(s, run_id)
    run = s.get(TradeRun, run_id)
    docs = s.get(RunDocuments, run_id)
    run.status, run.attempts, run.started_at = "running", 1, now()
    chain.append(run.started_at, [("trade_run.transition", {"attempt": 1, "from": "queued", "to": "running"})])
    s.commit()
    stored = [{"position": i.position, "symbol": i.symbol, "weight": i.weight, "score": i.score, "rank": i.rank, "sector": i.sector, "price": i.price}
              for i in s.query(SnapshotItem).filter_by(snapshot_id=snapshot_id).order_by(SnapshotItem.position)]
    if hashlib.sha256(canonical(stored).encode()).hexdigest() != s.get(Snapshot, snapshot_id).digest:
        raise SystemExit("the snapshot changed since it was frozen")
    drafts, skipped = build_orders(stored, price_map=price_map, portfolio_value=pv)
    for d in drafts: d["price"] = price_map[d["symbol"]]
    ok, blocked, reasons = evaluate_orders(drafts, max_order_notional=None, max_position_ratio=None, portfolio_value=pv)
    at = now()
    # Client order ids as long as trade-exec's: symbol, side, 24 hex digits of the run.
    tag = hashlib.sha256(run_id.encode()).hexdigest()[:24]
    orders = [TradeOrder(run_id=run_id, client_order_id=f"{d['symbol']}-{d['side'][0]}-{tag}", position=i, symbol=d["symbol"],
                         side=d["side"], quantity=str(d["quantity"]), order_type="MKT", reference_price=num(d["price"]),
                         current_quantity="0", target_quantity=str(d["quantity"] if d["side"] == "BUY" else -d["quantity"]),
                         target_weight=d["weight"], sector=d["sector"], status="NEW", filled_quantity="0", commission="0",
                         created_at=at, updated_at=at)
              for i, d in enumerate(drafts)]
    s.add_all(orders)
    s.flush()
    docs.recorded = canonical({"prices": [{"price": r["price"], "symbol": r["symbol"], "volume": r.get("volume")} for r in price_rows],
                               "skipped": skipped, "builtAt": at})
    chain.append(at, [("trade_run.orders_built", {"orders": len(orders), "prices": len(price_rows), "skipped": skipped})])
    s.commit()
    docs.risk = canonical({"passed": ok, "violations": reasons, "accepted": [o.client_order_id for o in orders]})
    chain.append(now(), [("trade_run.risk", {"passed": ok, "reasons": reasons, "violations": []})])
    s.commit()
    t2 = time.perf_counter()

    # Sending, a batch at a time: the batch marked SUBMITTED with the batch before's fills and FILLED (one
    # commit), then booked by the paper broker, which reads its rows for the batch first (another commit).
    account = PaperAccount(id=1, cash=num(pv)); s.add(account); s.commit()
    previous = []
    for start in range(0, len(orders) + BATCH, BATCH):
        batch = orders[start:start + BATCH]
        at = now()
        events = []
        for o, fill in previous:
            o.status, o.filled_quantity, o.avg_fill_price, o.updated_at = "FILLED", o.quantity, fill["price"], at
            s.add(TradeFill(execution_id=fill["executionId"], run_id=run_id, client_order_id=o.client_order_id, symbol=o.symbol,
                            side=o.side, quantity=o.quantity, price=fill["price"], commission="0", time=fill["time"], recorded_at=at))
            events.append(("trade_order.transition", {"avgFillPrice": fill["price"], "clientOrderId": o.client_order_id, "commission": "0",
                                                      "filledQuantity": o.quantity, "fills": [{k: fill[k] for k in ("commission", "executionId", "price", "quantity")}],
                                                      "from": "SUBMITTED", "symbol": o.symbol, "to": "FILLED"}))
        for o in batch:
            o.status, o.updated_at = "SUBMITTED", at
            events.append(("trade_order.transition", {"clientOrderId": o.client_order_id, "from": "NEW", "symbol": o.symbol, "to": "SUBMITTED"}))
        if not batch:
            run.status, run.finished_at = "done", at
            events.append(("trade_run.transition", {"from": "running", "to": "done"}))
        chain.append(at, events)
        s.commit()
        if not batch:
            break
        # The broker: what it already holds of the batch, the positions the batch moves, then its book.
        at = now()
        ids = [o.client_order_id for o in batch]
        known = {p.client_order_id for p in s.query(PaperOrder).filter(PaperOrder.client_order_id.in_(ids))}
        held = {p.symbol: p for p in s.query(PaperPosition).filter(PaperPosition.symbol.in_([o.symbol for o in batch]))}
        cash = float(account.cash)
        previous = []
        for o in batch:
            if o.client_order_id in known:
                continue
            fill = {"executionId": f"{o.client_order_id}-F1", "clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side,
                    "quantity": o.quantity, "price": o.reference_price, "commission": "0", "time": at}
            request = {"runId": run_id, "clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity,
                       "orderType": "MKT", "timeInForce": "DAY", "referencePrice": o.reference_price}
            s.add(PaperOrder(client_order_id=o.client_order_id, run_id=run_id, symbol=o.symbol, status="FILLED", request=canonical(request),
                             fills=canonical([fill]), received_at=at, last_traded_on=canonical([o.reference_price, None, None, None, None])))
            signed = float(o.quantity) if o.side == "BUY" else -float(o.quantity)
            position = held.get(o.symbol)
            if position is None:
                position = held[o.symbol] = PaperPosition(symbol=o.symbol, quantity="0"); s.add(position)
            position.quantity = num(float(position.quantity) + signed)
            cash -= signed * float(o.reference_price)
            previous.append((o, fill))
        account.cash = num(cash)
        s.commit()
    chain.append(now(), [("trade_run.execute", {"runId": run_id, "orders": len(orders), "blocked": len(blocked)})])
    s.commit()
    t3 = time.perf_counter()

    # The report, read back from the database (the session forgets what it holds first).
    s.expunge_all()
    read_run = s.get(TradeRun, run_id)
    read_skipped = json.loads(s.get(RunDocuments, run_id).recorded)["skipped"]
    read_orders = s.query(TradeOrder).filter_by(run_id=run_id).order_by(TradeOrder.position).all()
    read_fills = s.query(TradeFill).filter_by(run_id=run_id).all()
    report = {
        "run": {"id": read_run.id, "status": read_run.status, "snapshotId": read_run.snapshot_id, "mode": read_run.mode,
                "attempts": read_run.attempts, "createdAt": read_run.created_at, "startedAt": read_run.started_at, "finishedAt": read_run.finished_at},
        "orders": [{"clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "quantity": o.quantity, "orderType": o.order_type,
                    "limitPrice": o.limit_price, "referencePrice": o.reference_price, "status": o.status, "filledQuantity": o.filled_quantity,
                    "avgFillPrice": o.avg_fill_price, "commission": o.commission, "rejectReason": o.reject_reason} for o in read_orders],
        "fills": [{"executionId": f.execution_id, "clientOrderId": f.client_order_id, "symbol": f.symbol, "side": f.side,
                   "quantity": f.quantity, "price": f.price, "commission": f.commission, "time": f.time} for f in read_fills],
        "skipped": read_skipped,
        "tca": {"orders": [{"clientOrderId": o.client_order_id, "symbol": o.symbol, "side": o.side, "referencePrice": o.reference_price,
                            "avgFillPrice": o.avg_fill_price, "slippageBps": "0", "notional": num(float(o.filled_quantity) * float(o.avg_fill_price))}
                           for o in read_orders]},
    }
    sys.stdout.write(json.dumps(report, separators=(",", ":")) + "\n")
    t4 = time.perf_counter()
    sys.stderr.write(json.dumps({"orders": len(orders), "sqlalchemy": sqlalchemy.__version__, "setup_ms": round((t1 - t0) * 1e3, 2),
                                 "build_ms": round((t2 - t1) * 1e3, 2), "execute_ms": round((t3 - t2) * 1e3, 2),
                                 "report_ms": round((t4 - t3) * 1e3, 2), "total_ms": round((t4 - t0) * 1e3, 2)}) + "\n")

if __name__ == "__main__":
    main()

/*
 * trade-execution bridge for LEAN (live-paper, live-interactive).
 *
 * trade-execution hands orders to LEAN as `command-<client order id>.json` files in LEAN's working directory.
 * LEAN's own FileCommandHandler runs them in live mode (it lists `command*.json`, deletes each file, runs the
 * QuantConnect.Commands.OrderCommand / CancelOrderCommand in it and writes `result-command-{Id}.json`); this
 * algorithm places no orders itself. What it adds is the other half: LEAN's live result handler stores orders
 * and order events only every few minutes, so on every order event this algorithm writes
 *
 *   <trade-exec-results-dir>/<trade-exec-algorithm-id>.json               orders, holdings, cash book
 *   <trade-exec-results-dir>/<trade-exec-algorithm-id>-order-events.json  every order event of this run
 *
 * in LEAN's formats (order status as the OrderStatus integer, plus `submittedTag`, the tag each order was
 * submitted with, since LEAN appends to an order's tag later; events through LEAN's OrderEventJsonConverter,
 * which gives each event the id `{AlgorithmId}-{OrderId}-{OrderEventId}`), each file written whole and then
 * renamed into place so a reader never sees half of it.
 *
 * Parameters (config.json "parameters"):
 *   trade-exec-algorithm-id   required; the id trade-execution reads (TRADE_EXEC_LEAN_ALGORITHM_ID). LEAN numbers
 *                             orders from 1 in every run, so each run needs a new id: the algorithm refuses to
 *                             start over the files of an earlier run.
 *   trade-exec-results-dir    where to write; default <working directory>/trade-exec-results
 *   trade-exec-tickers        equities to add at start, comma separated: LEAN trades only securities the
 *                             algorithm has added
 *   trade-exec-market         default "usa"
 *   trade-exec-publish-seconds  how often cash and holdings are written besides order events; default 10
 *
 * This file has not been compiled here (no .NET in the environment it was written in); see README.md.
 */
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Newtonsoft.Json;
using QuantConnect.Orders;
using QuantConnect.Orders.Serialization;

namespace QuantConnect.Algorithm.CSharp
{
    /// <summary>
    /// Keeps a live LEAN algorithm running for trade-execution and writes what happens to its orders.
    /// </summary>
    public class TradeExecBridgeAlgorithm : QCAlgorithm
    {
        private readonly object _gate = new object();
        private readonly List<OrderEvent> _orderEvents = new List<OrderEvent>();
        private string _bridgeId;
        private string _resultsFile;
        private string _eventsFile;
        private OrderEventJsonConverter _eventConverter;

        public override void Initialize()
        {
            _bridgeId = GetParameter("trade-exec-algorithm-id", "");
            if (string.IsNullOrWhiteSpace(_bridgeId))
            {
                throw new ArgumentException("TradeExecBridgeAlgorithm: set the parameter trade-exec-algorithm-id");
            }
            var resultsDirectory = GetParameter("trade-exec-results-dir",
                Path.Combine(Directory.GetCurrentDirectory(), "trade-exec-results"));
            Directory.CreateDirectory(resultsDirectory);
            _resultsFile = Path.Combine(resultsDirectory, _bridgeId + ".json");
            _eventsFile = Path.Combine(resultsDirectory, _bridgeId + "-order-events.json");
            if (File.Exists(_resultsFile) || File.Exists(_eventsFile))
            {
                // Order ids restart at 1 in every LEAN run: writing over an earlier run's files would make
                // trade-execution pair its orders with this run's events.
                throw new InvalidOperationException(
                    $"TradeExecBridgeAlgorithm: {_resultsFile} belongs to an earlier run; start with a new " +
                    "trade-exec-algorithm-id and list both ids, oldest first, in TRADE_EXEC_LEAN_ALGORITHM_ID");
            }
            _eventConverter = new OrderEventJsonConverter(_bridgeId);

            var market = GetParameter("trade-exec-market", Market.USA);
            var tickers = GetParameter("trade-exec-tickers", "")
                .Split(',')
                .Select(ticker => ticker.Trim())
                .Where(ticker => ticker.Length > 0);
            foreach (var ticker in tickers)
            {
                AddEquity(ticker, Resolution.Minute, market);
            }

            if (!LiveMode)
            {
                Debug("TradeExecBridgeAlgorithm: LEAN runs command files only in live mode; this run takes no orders.");
            }

            var seconds = int.TryParse(GetParameter("trade-exec-publish-seconds", "10"), NumberStyles.Integer,
                CultureInfo.InvariantCulture, out var parsed) && parsed > 0 ? parsed : 10;
            // Cash and holdings move with the market and with the brokerage's own updates, not only with orders.
            Schedule.On(DateRules.EveryDay(), TimeRules.Every(TimeSpan.FromSeconds(seconds)), Publish);
        }

        public override void OnOrderEvent(OrderEvent orderEvent)
        {
            lock (_gate)
            {
                _orderEvents.Add(orderEvent);
            }
            Publish();
        }

        public override void OnEndOfAlgorithm()
        {
            Publish();
        }

        /// <summary>
        /// Writes the orders, holdings and cash book, then the order events. Order events may arrive on another
        /// thread than scheduled events, hence the lock. A failure is logged and left to the next publish (every
        /// order event and every scheduled tick writes everything again): an exception escaping OnOrderEvent or a
        /// scheduled event would make LEAN stop the live algorithm (SetRuntimeError).
        /// </summary>
        private void Publish()
        {
            lock (_gate)
            {
                try
                {
                    var orders = Transactions.GetOrders(order => true).ToDictionary(
                        order => order.Id.ToString(CultureInfo.InvariantCulture),
                        order => new
                        {
                            id = order.Id,
                            tag = order.Tag,
                            // The tag as submitted: LEAN appends a fill's message to order.Tag (and a cancel may
                            // replace it), and trade-execution finds its orders by the tag it gave them.
                            submittedTag = Transactions.GetOrderTicket(order.Id)?.SubmitRequest?.Tag,
                            status = (int)order.Status,
                            quantity = order.Quantity,
                            type = (int)order.Type,
                            symbol = new { value = order.Symbol.Value, id = order.Symbol.ID.ToString() },
                            price = order.Price,
                            time = order.Time
                        });
                    var holdings = Securities.Values
                        .Where(security => security.Holdings.Quantity != 0)
                        .GroupBy(security => security.Symbol.Value)
                        .ToDictionary(group => group.Key, group =>
                        {
                            var security = group.First();
                            return new
                            {
                                symbol = new { value = security.Symbol.Value },
                                quantity = security.Holdings.Quantity,
                                averagePrice = security.Holdings.AveragePrice,
                                marketPrice = security.Price
                            };
                        });
                    var cash = Portfolio.CashBook.ToDictionary(
                        pair => pair.Key,
                        pair => new { symbol = pair.Value.Symbol, amount = pair.Value.Amount, conversionRate = pair.Value.ConversionRate });

                    var results = new Dictionary<string, object>
                    {
                        ["orders"] = orders,
                        ["holdings"] = holdings,
                        ["cash"] = cash,
                        ["accountCurrency"] = AccountCurrency
                    };
                    WriteWhole(_resultsFile, JsonConvert.SerializeObject(results, Formatting.None));
                    WriteWhole(_eventsFile, JsonConvert.SerializeObject(_orderEvents, Formatting.None, _eventConverter));
                }
                catch (Exception err)
                {
                    Error($"TradeExecBridgeAlgorithm: could not write {_resultsFile} or {_eventsFile}: {err.Message}. " +
                        "The next order event or scheduled publish writes them again.");
                }
            }
        }

        /// <summary>Writes a file under a temporary name and renames it over the old one.</summary>
        private static void WriteWhole(string path, string content)
        {
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, true);
        }
    }
}

/*
 * trade-execution bridge for LEAN (live-paper, live-interactive).
 *
 * trade-execution hands orders to LEAN as `command-<client order id>.json` files in LEAN's working directory.
 * LEAN's own FileCommandHandler takes them in live mode, about once a second (it lists `command*.json`, deletes
 * each file, runs the command and writes `result-command-{Id}.json`). A file whose `$type` names no .NET type
 * becomes a CallbackCommand, which LEAN runs through the command class registered under that name with
 * AddCommand<T>() (LEAN #8330, 2024-09): this algorithm registers two,
 *
 *   TradeExecOrderCommand   submits an order with its tag and its time in force (LEAN's own OrderCommand
 *                           submits with DefaultOrderProperties, so it cannot carry one);
 *   TradeExecCancelCommand  cancels an order and answers with the cancel request's own response (LEAN's own
 *                           CancelOrderCommand answers success for an order that had already closed).
 *
 * A command LEAN refuses answers success false, and LEAN's reason is written to the results (`refused`). This
 * algorithm places no orders itself. What it adds is the other half: LEAN's live result handler stores orders
 * every ten minutes and order events only at a UTC date change or at exit, so on every order event this
 * algorithm writes
 *
 *   <trade-exec-results-dir>/<trade-exec-algorithm-id>.json               orders, holdings, cash book, refusals
 *   <trade-exec-results-dir>/<trade-exec-algorithm-id>-order-events.json  every order event of this run
 *
 * in LEAN's formats (order status as the OrderStatus integer; events through LEAN's OrderEventJsonConverter,
 * which gives each event the id `{AlgorithmId}-{OrderId}-{OrderEventId}`), each file written whole and then
 * renamed into place so a reader never sees half of it. Each order also carries `submittedTag` (the tag it was
 * submitted with: LEAN replaces the tag of an order it refuses with the error, and of a canceled one with the
 * cancel's tag), `brokerId` (Interactive Brokers' order id, which outlives a LEAN restart: LEAN reloads the
 * brokerage's open orders at start under new ids and with no tag), `timeInForce` and `cancelRequested`.
 *
 * Parameters (config.json "parameters"):
 *   trade-exec-algorithm-id   required; the id trade-execution reads (the last of TRADE_EXEC_LEAN_ALGORITHM_ID).
 *                             LEAN numbers orders from 1 in every run, so each run needs a new id: the algorithm
 *                             refuses to start over the files of an earlier run.
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
using QuantConnect.Commands;
using QuantConnect.Interfaces;
using QuantConnect.Orders;
using QuantConnect.Orders.Serialization;
using QuantConnect.Orders.TimeInForces;

namespace QuantConnect.Algorithm.CSharp
{
    /// <summary>
    /// Keeps a live LEAN algorithm running for trade-execution, runs its commands and writes what happens to its
    /// orders.
    /// </summary>
    public class TradeExecBridgeAlgorithm : QCAlgorithm
    {
        private readonly object _gate = new object();
        private readonly List<OrderEvent> _orderEvents = new List<OrderEvent>();
        private readonly Dictionary<string, string> _refused = new Dictionary<string, string>();
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

            // Without a price LEAN refuses every order (QCAlgorithm.PreOrderChecksImpl: SecurityPriceZero,
            // SecurityHasNoData), and a security added here has none until its first bar: before the open, or for
            // a name that has not traded yet, that is every order. Seeded, each starts with its last known price.
            Settings.SeedInitialPrices = true;

            var market = GetParameter("trade-exec-market", Market.USA);
            var tickers = GetParameter("trade-exec-tickers", "")
                .Split(',')
                .Select(ticker => ticker.Trim())
                .Where(ticker => ticker.Length > 0);
            foreach (var ticker in tickers)
            {
                AddEquity(ticker, Resolution.Minute, market);
            }

            AddCommand<TradeExecOrderCommand>();
            AddCommand<TradeExecCancelCommand>();

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

        /// <summary>Submits the order a TradeExecOrderCommand carries; false, with LEAN's reason recorded, if LEAN refuses it.</summary>
        private bool PlaceOrder(TradeExecOrderCommand command)
        {
            QuantConnect.Orders.TimeInForce timeInForce;
            switch (command.TimeInForce)
            {
                case "Day":
                    timeInForce = QuantConnect.Orders.TimeInForce.Day;
                    break;
                case "GoodTilCanceled":
                    timeInForce = QuantConnect.Orders.TimeInForce.GoodTilCanceled;
                    break;
                default:
                    return Refuse(command.Id, $"TimeInForce must be Day or GoodTilCanceled, not '{command.TimeInForce}'");
            }
            if (command.OrderType != OrderType.Market && command.OrderType != OrderType.Limit)
            {
                return Refuse(command.Id, $"OrderType must be Market or Limit, not {command.OrderType}");
            }
            // The brokerage's own properties (InteractiveBrokersOrderProperties, …) with the order's time in force.
            var properties = DefaultOrderProperties.Clone();
            properties.TimeInForce = timeInForce;
            var symbol = QuantConnect.Symbol.Create(command.Ticker, command.SecurityType, command.Market);
            var request = new SubmitOrderRequest(command.OrderType, symbol.SecurityType, symbol, command.Quantity, 0m,
                command.LimitPrice, UtcTime, command.Tag, properties);
            var response = SubmitOrderRequest(request).GetMostRecentOrderResponse();
            // Accepted here is not accepted by the brokerage: buying power is checked, and the order placed, on
            // the transaction handler's thread; a refusal there is an Invalid order event.
            return response.IsSuccess || Refuse(command.Id, response.ErrorMessage);
        }

        /// <summary>Asks LEAN to cancel an order; false, with LEAN's reason recorded, if LEAN refuses the request.</summary>
        private bool CancelOrder(TradeExecCancelCommand command)
        {
            var request = new CancelOrderRequest(UtcTime, command.OrderId, null);
            Transactions.ProcessRequest(request);
            // An error response is a cancel that will not happen: the order had closed, is not submitted yet, or
            // is being canceled already.
            return request.Response.IsSuccess || Refuse(command.Id, request.Response.ErrorMessage);
        }

        private bool Refuse(string commandId, string reason)
        {
            lock (_gate)
            {
                _refused[commandId ?? ""] = reason;
            }
            // Written before LEAN writes the command's result, which it does once Run returns.
            Publish();
            return false;
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
                        order =>
                        {
                            var ticket = Transactions.GetOrderTicket(order.Id);
                            var cancel = ticket?.CancelRequest;
                            return new
                            {
                                id = order.Id,
                                tag = order.Tag,
                                // The tag as submitted: LEAN may replace order.Tag, and trade-execution finds its
                                // orders by the tag it gave them.
                                submittedTag = ticket?.SubmitRequest?.Tag,
                                status = (int)order.Status,
                                quantity = order.Quantity,
                                type = (int)order.Type,
                                symbol = new { value = order.Symbol.Value, id = order.Symbol.ID.ToString() },
                                price = order.Price,
                                time = order.Time,
                                brokerId = order.BrokerId,
                                timeInForce = TimeInForceName(order.TimeInForce),
                                // A cancel LEAN accepted; a DAY order canceled without one was expired by the venue.
                                cancelRequested = cancel != null && cancel.Status != OrderRequestStatus.Error
                            };
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
                        ["accountCurrency"] = AccountCurrency,
                        ["refused"] = new Dictionary<string, string>(_refused)
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

        private static string TimeInForceName(QuantConnect.Orders.TimeInForce timeInForce)
        {
            switch (timeInForce)
            {
                case DayTimeInForce _:
                    return "Day";
                case GoodTilCanceledTimeInForce _:
                    return "GoodTilCanceled";
                default:
                    return timeInForce?.GetType().Name;
            }
        }

        /// <summary>Writes a file under a temporary name and renames it over the old one.</summary>
        private static void WriteWhole(string path, string content)
        {
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, content);
            File.Move(temporary, path, true);
        }

        /// <summary>
        /// trade-execution's order: `{"$type":"TradeExecOrderCommand","Id":…,"Ticker":…,"SecurityType":"Equity",
        /// "Market":"usa","OrderType":"Market"|"Limit","Quantity":…,"LimitPrice":…,"TimeInForce":"Day"|"GoodTilCanceled","Tag":…}`.
        /// Json.NET reads the decimals from the numbers' text, exactly.
        /// </summary>
        private class TradeExecOrderCommand : Command
        {
            public string Id { get; set; }
            public string Ticker { get; set; }
            public SecurityType SecurityType { get; set; }
            public string Market { get; set; }
            public OrderType OrderType { get; set; }
            public decimal Quantity { get; set; }
            public decimal LimitPrice { get; set; }
            public string TimeInForce { get; set; }
            public string Tag { get; set; }

            public override bool? Run(IAlgorithm algorithm)
            {
                return ((TradeExecBridgeAlgorithm)algorithm).PlaceOrder(this);
            }
        }

        /// <summary>trade-execution's cancel: `{"$type":"TradeExecCancelCommand","Id":…,"OrderId":…}`.</summary>
        private class TradeExecCancelCommand : Command
        {
            public string Id { get; set; }
            public int OrderId { get; set; }

            public override bool? Run(IAlgorithm algorithm)
            {
                return ((TradeExecBridgeAlgorithm)algorithm).CancelOrder(this);
            }
        }
    }
}

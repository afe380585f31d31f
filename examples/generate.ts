/**
 * Writes the sample decision in this folder: ~320 S&P 500 names with their GICS sectors, a momentum-style
 * decision (weights from scores, a few names weighted out), prices with bid/ask/volume, an existing book
 * of positions, a securities table and risk limits. Deterministic (a seeded PRNG), so the files only change
 * when this script does. Tickers and sectors are real; prices, volumes, scores and holdings are made up.
 *
 *   npx tsx examples/generate.ts
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const SECTORS: Record<string, string> = {
  "Information Technology":
    "AAPL MSFT NVDA AVGO ORCL CRM ADBE AMD CSCO ACN IBM INTU QCOM TXN NOW AMAT MU ADI LRCX KLAC PANW SNPS CDNS ANET MCHP FTNT ROP APH MSI NXPI ON HPQ HPE DELL IT CDW GLW KEYS TEL ZBRA TER WDC STX NTAP AKAM FFIV SWKS MPWR ENPH FSLR TYL PTC GEN EPAM",
  "Communication Services": "GOOGL GOOG META NFLX DIS CMCSA T VZ TMUS CHTR EA TTWO WBD OMC IPG LYV MTCH FOXA NWSA",
  "Consumer Discretionary":
    "AMZN TSLA HD MCD NKE LOW SBUX TJX BKNG CMG ORLY AZO MAR HLT ROST GM F YUM DHI LEN EBAY ULTA BBY DRI GPC POOL LVS WYNN MGM RCL CCL NCLH EXPE TSCO KMX LKQ HAS GRMN DPZ APTV TPR RL PHM NVR",
  "Consumer Staples":
    "PG KO PEP COST WMT PM MO MDLZ CL KMB GIS KHC HSY SYY KR STZ MNST KDP ADM TSN HRL CAG CPB SJM MKC CLX CHD EL TGT DG DLTR BG TAP LW",
  "Health Care":
    "UNH JNJ LLY ABBV MRK PFE TMO ABT DHR BMY AMGN CVS ELV CI MDT ISRG GILD SYK VRTX REGN ZTS BSX BDX HCA MCK COR CAH HUM CNC IQV A IDXX EW RMD DXCM MTD WST BIIB MRNA BAX ZBH STE HOLX ALGN LH DGX TECH CRL INCY VTRS",
  Financials:
    "JPM BAC WFC GS MS C SCHW BLK AXP SPGI CB MMC PGR CME ICE AON USB PNC TFC COF MET AIG PRU AFL TRV ALL BK STT MCO MSCI TROW NDAQ FITB HBAN RF KEY CFG MTB NTRS SYF AMP RJF WRB CINF L BRO AJG GL",
  Industrials:
    "GE CAT HON UNP UPS RTX BA LMT DE GD NOC ETN ITW EMR PH CSX NSC WM RSG FDX JCI CMI PCAR TT CARR OTIS ROK AME FAST GWW ODFL CTAS PAYX VRSK IR XYL DOV HWM TXT LHX WAB SNA SWK J PWR URI DAL UAL LUV EXPD CHRW JBHT",
  Energy: "XOM CVX COP EOG SLB MPC PSX VLO OXY WMB KMI OKE DVN HAL BKR FANG CTRA APA EQT TRGP",
  Utilities: "NEE DUK SO D AEP SRE EXC XEL PEG ED WEC ES EIX DTE AEE ETR FE PPL CMS CNP ATO NI LNT EVRG PNW AES NRG",
  "Real Estate": "PLD AMT EQIX CCI PSA O SPG WELL DLR VICI AVB EQR EXR MAA INVH ARE ESS UDR HST KIM REG BXP CPT FRT",
  Materials: "LIN SHW APD ECL FCX NEM DOW DD NUE VMC MLM PPG CTVA ALB IFF LYB CE STLD PKG IP BALL AVY CF MOS AMCR EMN"
}

// mulberry32: small, fast, good enough for sample data
let state = 20261125
const random = () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const between = (lo: number, hi: number) => lo + (hi - lo) * random()

const universe = Object.entries(SECTORS).flatMap(([sector, list]) => list.split(" ").map((symbol) => ({ symbol, sector })))
const names = universe.map((n) => {
  const price = Math.exp(between(Math.log(12), Math.log(900)))
  return {
    ...n,
    price: price.toFixed(2),
    spread: Math.max(0.01, price * between(0.0001, 0.0006)),
    volume: Math.round(between(4e5, 4e7) / 100) * 100,
    score: between(-2.5, 2.5)
  }
})

// The decision: the top 240 scores share 98% of the portfolio in proportion to their score; 12 names
// the model now rejects stay in with weight 0 (so holders sell them); one name has no price today.
const ranked = [...names].sort((a, b) => b.score - a.score)
const chosen = ranked.slice(0, 240)
const exits = ranked.slice(240, 252)
const total = chosen.reduce((s, n) => s + (n.score + 2.6), 0)
const decision = [
  ...chosen.map((n, i) => ({ ...n, rank: i + 1, weight: ((n.score + 2.6) / total) * 0.98 })),
  ...exits.map((n, i) => ({ ...n, rank: 241 + i, weight: 0 }))
]
const unpriced = decision[17]!.symbol

const csv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>) =>
  [header.join(","), ...rows.map((r) => r.join(","))].join("\n") + "\n"

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))

writeFileSync(
  here("decision_items.csv"),
  csv(["symbol", "weight", "score", "rank", "sector"], decision.map((n) => [n.symbol, n.weight.toFixed(8), n.score.toFixed(4), n.rank, `"${n.sector}"`]))
)
writeFileSync(
  here("prices.csv"),
  csv(
    ["symbol", "price", "bid", "ask", "volume", "time"],
    names.filter((n) => n.symbol !== unpriced).map((n) => [
      n.symbol,
      n.price,
      (Number(n.price) - n.spread / 2).toFixed(2),
      (Number(n.price) + n.spread / 2).toFixed(2),
      n.volume,
      "2026-11-25T20:59:58Z"
    ])
  )
)
// An existing book: 70 holdings, some of them names the decision no longer wants or never mentions.
const held = [...names].sort(() => random() - 0.5).slice(0, 70).filter((n) => n.symbol !== unpriced)
writeFileSync(
  here("positions.csv"),
  csv(["symbol", "quantity", "avg_cost"], held.map((n) => {
    const quantity = Math.max(1, Math.round(between(20_000, 120_000) / Number(n.price)))
    return [n.symbol, quantity, (Number(n.price) * between(0.8, 1.15)).toFixed(2)]
  }))
)
writeFileSync(
  here("securities.csv"),
  csv(["symbol", "sector", "lot_size", "tick_size", "min_quantity"], names.map((n) => [n.symbol, `"${n.sector}"`, 1, "0.01", 1]))
)
console.log(`${decision.length} decision items (${unpriced} unpriced), ${held.length} positions, ${names.length} securities`)

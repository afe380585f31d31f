/**
 * The CSV adapter: the RFC 4180 reader (`Csv`), the four file readers, and a `PriceFeed` over a prices file.
 */
export * as Csv from "./Csv.js"
export * as CsvPriceFeed from "./CsvPriceFeed.js"
export * from "./readers.js"

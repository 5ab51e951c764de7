/**
 * The data model shared by ingestion, commitment, policies and dataset circuits.
 *
 * Every value is encoded as a non-negative integer (a field element far below the modulus) so circuits can compare
 * values with small range-checked comparators:
 * - integer: `value - min`, in [0, max - min]
 * - decimal: `round-free(value * 10^scale) - min * 10^scale`, parsed exactly from text (never through a float)
 * - date: days since 1970-01-01 minus `minDays` (default 0), `YYYY-MM-DD` in the data (or the column's `format`)
 * - datetime: seconds since 1970-01-01T00:00:00Z minus the `min` instant's, in the column's `format` and zone
 * - boolean: 0 or 1
 * - category: index of the value in `values`
 * - string: Poseidon hash of its UTF-8 bytes (equality only: no order)
 * - address: an Ethereum account (`0x` + 40 hex digits) as an unsigned 160-bit integer (equality only: no order;
 *   160 bits, so it is packed in the leaf like any other value but never given a comparator)
 * A null is encoded as 0 with its null flag set; the null flags of a record are committed with it.
 */

/** The type of one column, as written in a schema file. */
export type ColumnType =
  | { type: 'integer'; min: number | string; max: number | string }
  | { type: 'decimal'; scale: number; min: string; max: string }
  | { type: 'date'; min?: string; max?: string }
  | { type: 'datetime'; min?: string; max?: string }
  | { type: 'boolean' }
  | { type: 'category'; values: string[] }
  | { type: 'string'; maxBytes?: number }
  | { type: 'address' };

/** One column of a schema file. */
export type ColumnSpec = ColumnType & {
  name: string;
  /** Empty cells allowed (they become nulls). Default false. */
  nullable?: boolean;
};

/** A schema file (JSON). */
export interface SchemaSpec {
  /** A name for people; part of the schema hash. */
  name: string;
  columns: ColumnSpec[];
  /** Name of the column that holds the data subject's id (a string, integer or address column), if any. */
  subjectId?: string;
}

/** A column after validation, with the numbers circuits need. */
export interface Column {
  name: string;
  index: number;
  spec: ColumnSpec;
  nullable: boolean;
  /** Encoded values lie in [0, 2^bits); 253 for string hashes (not comparable). */
  bits: number;
  /** Encoded values lie in [0, maxEncoded]; undefined for strings. */
  maxEncoded: bigint | undefined;
  /** True when order comparisons (LT, BETWEEN...) make sense: not for strings, categories, booleans, addresses. */
  ordered: boolean;
  /**
   * The column's header (CSV) or key (JSON, NDJSON) in data files when it is not `name` (the schema's `source`): any
   * text. Not part of the schema hash: it says where the values are, not what they mean.
   */
  source?: string;
  /**
   * A date column's `format` in data files when it is not `YYYY-MM-DD` (see src/data/date-format.ts). Not part of the
   * schema hash; bounds and policy constants are written `YYYY-MM-DD` whatever it is.
   */
  format?: string;
  /**
   * A datetime column's zone (`UTC` or `+HH:MM`) for cells whose format has no `Z`. Not part of the schema hash: the
   * values are instants (seconds since 1970-01-01T00:00:00Z) whatever it is.
   */
  timezone?: string;
}

/** A validated schema. */
export interface Schema {
  spec: SchemaSpec;
  columns: Column[];
  /** Poseidon hash of the canonical schema encoding, as a decimal string: public in every dataset proof. */
  hash: string;
  /**
   * `ignore`: data files may hold columns the schema does not list; they are skipped and reported (the schema's
   * `otherColumns`). Absent: every column of a file must be in the schema. Not part of the schema hash.
   */
  otherColumns?: 'ignore';
}

/** One record, encoded: a value per column (0 for null) and a null flag per column. */
export interface EncodedRecord {
  /** 1-based row number in the source file (a header line counts for CSV), for error messages. */
  row: number;
  values: bigint[];
  nulls: boolean[];
}

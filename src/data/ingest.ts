import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { InputFileError } from '../errors.ts';
import {
  checkRecord,
  DataError,
  DatasetErrors,
  encodeRow,
  fileColumn,
  warnIgnoredColumns,
  type StringHashes,
} from './encode.ts';
import type { EncodedRecord, Schema } from './types.ts';

export { DataError, DatasetErrors } from './encode.ts';

/** A data file format. */
export type DataFormat = 'csv' | 'json' | 'ndjson';

/** Options of {@link readDataset}. */
export interface ReadDatasetOptions {
  /** The file format; by default from the extension: `.csv`, `.json`, `.ndjson` or `.jsonl`. */
  format?: DataFormat;
  /** Called with the number of records read so far, every {@link PROGRESS_EVERY} records and once at the end. */
  onProgress?(rows: number): void;
  /** How many problems to list before only counting the rest. Default {@link DEFAULT_MAX_ERRORS}. */
  maxErrors?: number;
  /**
   * Called once, when the dataset is read, with the columns (CSV headers, JSON keys) it skipped because the schema's
   * `otherColumns` is `"ignore"`, in the order first seen. Without it, a process warning (`ZKAI_IGNORED_COLUMNS`) lists
   * them: skipped columns are never silent.
   */
  onIgnoredColumns?(columns: string[]): void;
}

export const DEFAULT_MAX_ERRORS = 50;
export const PROGRESS_EVERY = 1000;

const EXTENSIONS: Record<string, DataFormat> = {
  '.csv': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

/** The format a file name implies, or undefined. */
export function formatFromPath(path: string): DataFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** Collects problems: keeps the first `limit`, counts all. */
class ErrorLog {
  readonly listed: DataError[] = [];
  total = 0;
  constructor(private readonly limit: number) {}
  add(...errors: DataError[]): void {
    for (const error of errors) {
      this.total++;
      if (this.listed.length < this.limit) this.listed.push(error);
    }
  }
  throwIfAny(source: string): void {
    if (this.total > 0) throw new DatasetErrors(this.listed, this.total, source);
  }
}

/** Stops reading at once (a header mismatch, a CSV syntax error, bytes that are not UTF-8): the log so far is thrown. */
class FatalDataError extends Error {
  constructor(readonly error: DataError) {
    super(error.message);
  }
}

/**
 * Read a dataset file and encode every record with `schema`. Nothing is dropped, rounded or coerced: every problem
 * (up to `maxErrors` listed, all counted) is collected and thrown together as one {@link DatasetErrors}; a partial
 * dataset is never returned.
 *
 * - **CSV** (streamed): UTF-8 (checked), optional BOM, LF or CRLF line ends, RFC 4180 quoting (commas, quotes as `""`
 *   and line breaks inside quoted fields). The first line is a header naming exactly the schema's columns, in any
 *   order. Empty lines are skipped; a line of empty cells (`,,,`) is a record of nulls. Each row must have as many
 *   cells as the header. Cells are never trimmed. An empty cell (quoted or not) is a null.
 * - **JSON**: an array of objects keyed by column name (all columns present; `null` or `""` for a null).
 * - **NDJSON**: one such object per line; blank lines are skipped.
 *
 * Row numbers in errors and in {@link EncodedRecord.row} are physical line numbers for CSV (the line where the record
 * starts; the header is line 1) and NDJSON; for JSON they are the array index + 1 (messages say `index i`).
 *
 * @throws InputFileError (code `BAD_INPUT_FILE`) when the file is missing or its format cannot be told
 * @throws DatasetErrors (code `BAD_DATA`) listing the problems
 */
export async function readDataset(
  path: string,
  schema: Schema,
  options: ReadDatasetOptions = {},
): Promise<EncodedRecord[]> {
  const format = options.format ?? formatFromPath(path);
  if (format === undefined) {
    throw new InputFileError(
      path,
      `cannot tell the data format from the file name; name it .csv, .json, .ndjson or .jsonl, or pass the format (csv, json or ndjson)`,
    );
  }
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputFileError(path, 'is not a file');
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(
      path,
      code === 'ENOENT' ? 'no such data file' : `cannot read the data file (${(error as Error).message})`,
      { cause: error },
    );
  }
  const log = new ErrorLog(options.maxErrors ?? DEFAULT_MAX_ERRORS);
  const records: EncodedRecord[] = [];
  const ignored = new Set<string>();
  const strings: StringHashes = new Map(); // this read's string hashes only: no plaintext outlives it
  let rows = 0;
  const accept: Accept = (result) => {
    for (const column of result.ignored ?? []) ignored.add(column);
    log.add(...result.errors);
    // Once anything failed the dataset is never returned, so good records are no longer kept.
    if (result.record && log.total === 0) records.push(result.record);
    rows++;
    if (options.onProgress && rows % PROGRESS_EVERY === 0) options.onProgress(rows);
  };
  try {
    if (format === 'csv')
      await readCsv(path, schema, accept, strings, (columns) => columns.forEach((c) => ignored.add(c)));
    else if (format === 'json') await readJson(path, schema, accept, strings);
    else await readNdjson(path, schema, accept, strings);
  } catch (error) {
    if (!(error instanceof FatalDataError)) throw error;
    log.add(error.error);
  }
  log.throwIfAny(path);
  if (options.onProgress && (rows === 0 || rows % PROGRESS_EVERY !== 0)) options.onProgress(rows);
  if (ignored.size > 0) {
    if (options.onIgnoredColumns) options.onIgnoredColumns([...ignored]);
    else warnIgnoredColumns(path, [...ignored]);
  }
  return records;
}

type Accept = (result: { record: EncodedRecord | undefined; errors: DataError[]; ignored?: string[] }) => void;

// ---------------------------------------------------------------------------------------------------------------
// Lines and bytes

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Splits a byte stream into physical lines (ended by `\n`; a `\r` before it is removed) and checks each is UTF-8.
 * UTF-8 never uses the byte 0x0A inside a character, so lines can be checked one by one and an error names its line.
 */
class LineSplitter {
  private carry: Buffer[] = [];
  private line = 1;
  constructor(private readonly onLine: (bytes: Buffer, line: number) => void) {}

  feed(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, end);
      this.emit(this.carry.length === 0 ? piece : Buffer.concat([...this.carry, piece]));
      this.carry = [];
      start = end + 1;
    }
    if (start < chunk.length) this.carry.push(Buffer.from(chunk.subarray(start)));
  }

  end(): void {
    if (this.carry.length > 0) this.emit(Buffer.concat(this.carry));
    this.carry = [];
  }

  private emit(bytes: Buffer): void {
    const line = this.line++;
    const content = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.subarray(0, -1) : bytes;
    if (!isUtf8(content))
      throw new FatalDataError(
        new DataError({ row: line, problem: 'the line is not valid UTF-8 text (save the file as UTF-8)' }),
      );
    this.onLine(content, line);
  }
}

/**
 * Maps byte offsets of a stream to line numbers, keeping only the bytes not yet passed. Offsets must be asked in
 * increasing order (csv-parse reports records in file order).
 */
class LineCounter {
  private chunks: Buffer[] = [];
  /** Absolute offset of chunks[0][0]. */
  private chunkStart = 0;
  /** Absolute offset of the cursor, and newlines before it. */
  private position = 0;
  private newlines = 0;
  private lastByte = -1;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** Move the cursor to `offset` and return the number of `\n` bytes before it. */
  newlinesBefore(offset: number): number {
    while (this.position < offset && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const from = this.position - this.chunkStart;
      const to = Math.min(chunk.length, offset - this.chunkStart);
      for (let i = chunk.indexOf(NEWLINE, from); i !== -1 && i < to; i = chunk.indexOf(NEWLINE, i + 1)) this.newlines++;
      this.lastByte = chunk[to - 1]!;
      this.position = this.chunkStart + to;
      if (to === chunk.length) {
        this.chunks.shift();
        this.chunkStart += chunk.length;
      }
    }
    return this.newlines;
  }

  /** Physical line of the record that ends (delimiter included) at byte `end` and holds `innerNewlines` line breaks. */
  recordStartLine(end: number, innerNewlines: number): number {
    const before = this.newlinesBefore(end);
    const endLine = this.lastByte === NEWLINE ? before : before + 1;
    return endLine - innerNewlines;
  }

  /** Line of the first byte at or after `offset` that is not a line break (where the next record starts). */
  nextContentLine(offset: number): number {
    let line = this.newlinesBefore(offset) + 1;
    let from = this.position - this.chunkStart;
    for (const chunk of this.chunks) {
      for (let i = from; i < chunk.length; i++) {
        const byte = chunk[i]!;
        if (byte === NEWLINE) line++;
        else if (byte !== CARRIAGE_RETURN) return line;
      }
      from = 0;
    }
    return line;
  }
}

function countNewlines(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) for (let i = cell.indexOf('\n'); i !== -1; i = cell.indexOf('\n', i + 1)) count++;
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV

const CSV_PROBLEMS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (the rest of the file would be inside it)',
  INVALID_OPENING_QUOTE:
    'a quote appears inside an unquoted field; quote the whole field and double the quotes inside it ("")',
  CSV_INVALID_CLOSING_QUOTE:
    'a closing quote is followed by other characters; quote the whole field and double the quotes inside it ("")',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'a closing quote is followed by other characters; quote the whole field and double the quotes inside it ("")',
};

/**
 * The position in the header of each schema column (by its `source`, else its name). Headers the schema does not list
 * are refused, or, when its `otherColumns` is `"ignore"`, handed to `onIgnored`.
 */
function checkHeader(
  header: readonly string[],
  schema: Schema,
  line: number,
  onIgnored: (columns: string[]) => void,
): number[] {
  const names = schema.columns.map(fileColumn);
  const seen = new Set<string>();
  const repeated = header.filter((name) => (seen.has(name) ? true : (seen.add(name), false)));
  // With "otherColumns": "ignore", a repeated column the schema does not read (spreadsheets end rows with empty
  // header cells) is skipped like the others; a repeated column it reads is ambiguous, and refused.
  const duplicates = schema.otherColumns === 'ignore' ? repeated.filter((name) => names.includes(name)) : repeated;
  const missing = names.filter((name) => !seen.has(name));
  const unlisted = header.filter((name) => !names.includes(name));
  const extra = schema.otherColumns === 'ignore' ? [] : unlisted;
  if (duplicates.length > 0 || missing.length > 0 || extra.length > 0) {
    const quote = (list: readonly string[]) => list.map((name) => JSON.stringify(name)).join(', ');
    const parts = [
      missing.length > 0 ? `missing column${missing.length === 1 ? '' : 's'} ${quote(missing)}` : undefined,
      extra.length > 0 ? `unknown column${extra.length === 1 ? '' : 's'} ${quote(extra)}` : undefined,
      duplicates.length > 0
        ? `repeated column${duplicates.length === 1 ? '' : 's'} ${quote([...new Set(duplicates)])}`
        : undefined,
    ].filter((part) => part !== undefined);
    throw new FatalDataError(
      new DataError({
        row: line,
        problem: `the header does not match the schema: ${parts.join('; ')} (the first line must name the columns ${quote(names)}, in any order${extra.length > 0 ? '; a schema with "otherColumns": "ignore" skips the columns it does not list' : ''})`,
      }),
    );
  }
  if (unlisted.length > 0) onIgnored([...new Set(unlisted)]);
  return names.map((name) => header.indexOf(name));
}

async function readCsv(
  path: string,
  schema: Schema,
  accept: Accept,
  strings: StringHashes,
  onIgnored: (columns: string[]) => void,
): Promise<void> {
  const counter = new LineCounter();
  const splitter = new LineSplitter(() => {});
  let lastEnd = 0;
  let order: number[] | undefined;
  let headerCells = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        splitter.feed(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      counter.push(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      try {
        splitter.end();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    // Every record is handled here, synchronously and in file order, so its end offset (`info.bytes`) maps to a line
    // exactly. csv-parse's own `info.lines` counts a CRLF inside a quoted field as two lines, so it is not used.
    on_record: (record: unknown, info: { bytes: number }) => {
      const cells = record as string[];
      const line = counter.recordStartLine(info.bytes, countNewlines(cells));
      lastEnd = info.bytes;
      if (order === undefined) {
        order = checkHeader(cells, schema, line, onIgnored);
        headerCells = cells.length;
      } else if (cells.length !== headerCells) {
        accept({
          record: undefined,
          errors: [
            new DataError({
              row: line,
              problem: `has ${cells.length} cell${cells.length === 1 ? '' : 's'} but the header has ${headerCells}`,
            }),
          ],
        });
      } else {
        accept(
          encodeRow(
            schema,
            order.map((position) => cells[position]),
            line,
            undefined,
            strings,
          ),
        );
      }
      return undefined;
    },
  });
  try {
    await pipeline(createReadStream(path), tap, parser, async (source: AsyncIterable<unknown>) => {
      for await (const _ of source) {
        // on_record keeps nothing in the stream
      }
    });
  } catch (error) {
    if (error instanceof FatalDataError) throw error;
    if (error instanceof CsvError) {
      const problem = CSV_PROBLEMS[error.code] ?? `the CSV cannot be parsed: ${error.message}`;
      throw new FatalDataError(new DataError({ row: counter.nextContentLine(lastEnd), problem }, { cause: error }));
    }
    throw error;
  }
  if (order === undefined) {
    throw new FatalDataError(
      new DataError({ problem: 'the file is empty: a CSV needs a header line naming the columns' }),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON and NDJSON

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A JSON.parse message with `position N` turned into a line and column of `text`. */
function describeJsonError(error: unknown, text: string): string {
  const message = (error as Error).message;
  const match = /position (\d+)/.exec(message);
  if (!match || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

function checkUtf8(bytes: Buffer): void {
  if (isUtf8(bytes)) return;
  const splitter = new LineSplitter(() => {});
  splitter.feed(bytes);
  splitter.end();
}

async function readJson(path: string, schema: Schema, accept: Accept, strings: StringHashes): Promise<void> {
  const bytes = await readFile(path);
  checkUtf8(bytes);
  let text = bytes.toString('utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FatalDataError(
      new DataError({ problem: `the file is not valid JSON: ${describeJsonError(error, text)}` }, { cause: error }),
    );
  }
  if (!Array.isArray(json)) {
    throw new FatalDataError(
      new DataError({
        problem: `the file holds ${jsonKind(json)}, expected an array of records (objects keyed by column name)`,
      }),
    );
  }
  json.forEach((item: unknown, index) => {
    const where = `index ${index}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      accept({
        record: undefined,
        errors: [
          new DataError({
            row: index + 1,
            where,
            value: item,
            problem: `is ${jsonKind(item)}, expected a record (an object keyed by column name)`,
          }),
        ],
      });
      return;
    }
    accept(checkRecord(schema, item as Record<string, unknown>, index + 1, where, strings));
  });
}

async function readNdjson(path: string, schema: Schema, accept: Accept, strings: StringHashes): Promise<void> {
  const splitter = new LineSplitter((bytes, line) => {
    let text = bytes.toString('utf8');
    if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    if (text.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch (error) {
      accept({
        record: undefined,
        errors: [new DataError({ row: line, problem: `the line is not valid JSON: ${(error as Error).message}` })],
      });
      return;
    }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      accept({
        record: undefined,
        errors: [
          new DataError({
            row: line,
            value: item,
            problem: `is ${jsonKind(item)}, expected a record (an object keyed by column name)`,
          }),
        ],
      });
      return;
    }
    accept(checkRecord(schema, item as Record<string, unknown>, line, undefined, strings));
  });
  for await (const chunk of createReadStream(path)) splitter.feed(chunk as Buffer);
  splitter.end();
}

/**
 * The compiler: the only place SQL text is produced. It walks an operation
 * tree and writes PostgreSQL with `$n` placeholders for every value, every
 * identifier validated and double-quoted, and every column reference
 * resolved against the tables in scope (unknown or ambiguous names are
 * `ORM_INVALID_QUERY`). It also collects the tables read and written and the
 * raw text of `sql` fragments.
 *
 * @module
 */

import { invalidQuery, unsafeQuery } from "./errors.ts";
import { quoteIdentifier } from "./identifier.ts";
import type {
  AggregateFunction,
  BinaryOperator,
  ColumnSpec,
  ColumnType,
  CreateTableNode,
  CteNode,
  DataTypeSpec,
  DeleteNode,
  DropTableNode,
  ExpressionNode,
  InsertNode,
  JoinNode,
  LockNode,
  OrderByNode,
  QueryNode,
  RawNode,
  ScalarFunction,
  SelectItemNode,
  SelectNode,
  SetNode,
  SourceNode,
  StatementNode,
  TableSourceNode,
  TableSpec,
  UpdateNode,
} from "./nodes/mod.ts";
import type { CompiledQuery, QueryOperation } from "./query.ts";

// The closed sets: anything else in a node is refused.

/** SQL text of every binary operator (the closed set). */
const BINARY_OPERATOR_SQL: ReadonlyMap<string, string> = new Map<BinaryOperator, string>([
  ["=", "="],
  ["!=", "<>"],
  ["<>", "<>"],
  ["<", "<"],
  ["<=", "<="],
  [">", ">"],
  [">=", ">="],
  ["like", "LIKE"],
  ["not like", "NOT LIKE"],
  ["ilike", "ILIKE"],
  ["not ilike", "NOT ILIKE"],
  ["is distinct from", "IS DISTINCT FROM"],
  ["is not distinct from", "IS NOT DISTINCT FROM"],
  ["+", "+"],
  ["-", "-"],
  ["*", "*"],
  ["/", "/"],
  ["%", "%"],
  ["||", "||"],
]);

/** Every scalar function, for runtime checks. */
const SCALAR_FUNCTIONS: ReadonlySet<string> = new Set<ScalarFunction>([
  "coalesce",
  "lower",
  "upper",
  "abs",
  "length",
  "now",
]);

/** Every aggregate function, for runtime checks. */
const AGGREGATE_FUNCTIONS: ReadonlySet<string> = new Set<AggregateFunction>([
  "count",
  "sum",
  "avg",
  "min",
  "max",
]);

/** Every {@linkcode ColumnType}, for runtime checks. */
const COLUMN_TYPES: ReadonlySet<string> = new Set<ColumnType>([
  "int2",
  "int4",
  "int8",
  "numeric",
  "float4",
  "float8",
  "text",
  "varchar",
  "boolean",
  "timestamptz",
  "timestamp",
  "date",
  "jsonb",
  "json",
  "bytea",
  "uuid",
]);

/** Column names of something in scope (a table's `byName`, or a set). */
interface Columns {
  has(name: string): boolean;
  keys(): Iterable<string>;
}

/** One name in scope: a table, CTE or derived table under its alias. */
interface Entry {
  readonly alias: string;
  readonly columns: Columns;
}

/**
 * One query level's names. `merged` holds the columns that USING / NATURAL
 * joins merged: unqualified, they name the merged column, not an ambiguity.
 */
interface Level {
  readonly entries: Entry[];
  merged: Set<string> | null;
}

const JOIN_SQL: Readonly<Record<string, string>> = {
  inner: "INNER JOIN",
  left: "LEFT JOIN",
  right: "RIGHT JOIN",
  full: "FULL JOIN",
  cross: "CROSS JOIN",
};
const NATURAL_JOIN_SQL: Readonly<Record<string, string>> = {
  inner: "NATURAL JOIN",
  left: "NATURAL LEFT JOIN",
  right: "NATURAL RIGHT JOIN",
  full: "NATURAL FULL JOIN",
};
const DIRECTION_SQL: Readonly<Record<string, string>> = { asc: "ASC", desc: "DESC" };
const NULLS_SQL: Readonly<Record<string, string>> = {
  first: "NULLS FIRST",
  last: "NULLS LAST",
};
const LOCK_SQL: Readonly<Record<string, string>> = {
  "update": "FOR UPDATE",
  "no key update": "FOR NO KEY UPDATE",
  "share": "FOR SHARE",
  "key share": "FOR KEY SHARE",
};
const LOCK_WAIT_SQL: Readonly<Record<string, string>> = {
  "skip locked": "SKIP LOCKED",
  "nowait": "NOWAIT",
};
const REFERENTIAL_SQL: Readonly<Record<string, string>> = {
  "cascade": "CASCADE",
  "restrict": "RESTRICT",
  "set null": "SET NULL",
  "set default": "SET DEFAULT",
  "no action": "NO ACTION",
};
const OPERATION: Readonly<Record<QueryNode["kind"], QueryOperation>> = {
  select: "select",
  insert: "insert",
  update: "update",
  delete: "delete",
  createTable: "raw",
  dropTable: "raw",
  raw: "raw",
};
// Operand kinds that need parentheses inside another operator.
const COMPOUND = new Set<ExpressionNode["kind"]>([
  "binary",
  "logical",
  "not",
  "in",
  "between",
  "is",
  "raw",
]);
const own = Object.prototype.hasOwnProperty;
const NO_CTES: ReadonlyMap<string, Columns> = new Map();

function lookup(table: Readonly<Record<string, string>>, key: unknown, what: string): string {
  if (typeof key === "string" && own.call(table, key)) return table[key];
  throw invalidQuery(`unknown ${what} ${JSON.stringify(String(key))}`);
}

/**
 * Compile an operation tree to SQL text and parameters.
 *
 * @throws {OrmError} `ORM_INVALID_QUERY` for unknown/ambiguous names or
 *   invalid identifiers, `ORM_UNSAFE_QUERY` for UPDATE/DELETE without WHERE
 */
export function compileNode(node: QueryNode): CompiledQuery {
  const c = new Compiler();
  const sql = c.query(node);
  return Object.freeze({
    sql,
    params: Object.freeze(c.params),
    operation: OPERATION[node.kind],
    reads: Object.freeze(c.reads),
    writes: Object.freeze(c.writes),
    rawText: Object.freeze(c.rawText),
  });
}

class Compiler {
  readonly params: unknown[] = [];
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  readonly rawText: string[] = [];
  /** Name scopes, innermost last. */
  readonly #scopes: Level[] = [];
  /** Visible CTEs, innermost frame last. */
  readonly #ctes: ReadonlyMap<string, Columns>[] = [];
  /** CTE nodes each open frame emitted, and all CTE nodes in force. */
  readonly #cteNodes: CteNode[][] = [];
  readonly #activeCtes = new Set<CteNode>();

  query(node: QueryNode): string {
    switch (node.kind) {
      case "select":
      case "insert":
      case "update":
      case "delete":
        return this.statement(node);
      case "createTable":
        return this.createTable(node);
      case "dropTable":
        return this.dropTable(node);
      case "raw":
        return this.raw(node);
      default:
        throw invalidQuery(
          `unknown query node ${JSON.stringify((node as { kind: unknown }).kind)}`,
        );
    }
  }

  statement(node: StatementNode): string {
    switch (node.kind) {
      case "select":
        return this.select(node);
      case "insert":
        return this.insert(node);
      case "update":
        return this.update(node);
      case "delete":
        return this.delete(node);
    }
  }

  // -------------------------------------------------------------------------
  // Bookkeeping

  #param(value: unknown): string {
    if (value === undefined) throw invalidQuery("undefined is not a value (use null)");
    this.params.push(value);
    return `$${this.params.length}`;
  }

  #read(name: string): void {
    if (!this.reads.includes(name)) this.reads.push(name);
  }

  #write(name: string): void {
    if (!this.writes.includes(name)) this.writes.push(name);
  }

  #findCte(name: string, local: readonly CteNode[] = []): Columns | undefined {
    for (const c of local) {
      if (c.name === name) return new Set(this.outputColumns(c.query));
    }
    for (let i = this.#ctes.length - 1; i >= 0; i--) {
      const hit = this.#ctes[i].get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  #entry(source: SourceNode): Entry {
    switch (source.kind) {
      case "table":
        return { alias: source.alias ?? source.table.name, columns: source.table.byName };
      case "cte": {
        const columns = this.#findCte(source.name);
        if (!columns) throw invalidQuery(`unknown CTE ${JSON.stringify(source.name)}`);
        return { alias: source.alias ?? source.name, columns };
      }
      case "subquery":
        return { alias: source.alias, columns: new Set(this.outputColumns(source.query)) };
      default:
        throw invalidQuery("unknown source");
    }
  }

  #level(sources: readonly SourceNode[]): Level {
    const entries: Entry[] = [];
    for (const s of sources) {
      const e = this.#entry(s);
      if (entries.some((x) => x.alias === e.alias)) {
        throw invalidQuery(`table name ${JSON.stringify(e.alias)} is used more than once`);
      }
      entries.push(e);
    }
    return { entries, merged: null };
  }

  /** Record the columns USING / NATURAL joins merge (needed before the select list compiles). */
  #merge(level: Level, joins: readonly JoinNode[], firstJoin: number): void {
    for (let i = 0; i < joins.length; i++) {
      const j = joins[i];
      if (!j.natural && !j.using) continue;
      const right = level.entries[firstJoin + i];
      const left = level.entries.slice(0, firstJoin + i);
      const cols = j.using ??
        [...right.columns.keys()].filter((c) => left.some((e) => e.columns.has(c)));
      level.merged ??= new Set();
      for (const c of cols) level.merged.add(c);
    }
  }

  /** The column names a statement produces (select list or RETURNING). */
  outputColumns(node: StatementNode): string[] {
    const items = node.kind === "select" ? node.selections : node.returning;
    const out: string[] = [];
    for (const item of items) {
      if (item.kind === "selection") {
        if (item.alias !== null) out.push(item.alias);
        else if (item.expr.kind === "ref") out.push(item.expr.column);
        else throw invalidQuery("a selected expression needs an alias (use .as(name))");
        continue;
      }
      let sources: readonly SourceNode[];
      if (node.kind === "select") sources = [...node.from, ...node.joins.map((j) => j.source)];
      else if (node.kind === "update") sources = [node.table, ...node.from];
      else if (node.kind === "delete") sources = [node.table, ...node.using];
      else sources = [node.table];
      let found = false;
      for (const s of sources) {
        const alias = s.kind === "table"
          ? s.alias ?? s.table.name
          : s.alias ?? (s.kind === "cte" ? s.name : "");
        if (item.table !== null && alias !== item.table) continue;
        found = true;
        let cols: Iterable<string>;
        if (s.kind === "table") cols = s.table.byName.keys();
        else if (s.kind === "subquery") cols = this.outputColumns(s.query);
        else {
          const c = this.#findCte(s.name, node.ctes);
          if (!c) throw invalidQuery(`unknown CTE ${JSON.stringify(s.name)}`);
          cols = c.keys();
        }
        for (const col of cols) if (!out.includes(col)) out.push(col);
      }
      if (!found) throw invalidQuery(`unknown table ${JSON.stringify(item.table)} in selectAll`);
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Statements

  /**
   * The WITH clause for `ctes`, opening a CTE frame (close it with
   * {@linkcode #endWith}). CTEs already in force are skipped: a builder from
   * `db.with(…)` reused as a subquery of its own query shares its parent's
   * CTE nodes, which must not be emitted twice.
   */
  #with(ctes: readonly CteNode[]): string {
    if (ctes.length === 0) {
      this.#ctes.push(NO_CTES);
      this.#cteNodes.push([]);
      return "";
    }
    const frame = new Map<string, Columns>();
    const added: CteNode[] = [];
    this.#ctes.push(frame);
    this.#cteNodes.push(added);
    const defs: string[] = [];
    for (const cte of ctes) {
      if (this.#activeCtes.has(cte)) continue;
      if (frame.has(cte.name)) {
        throw invalidQuery(`CTE name ${JSON.stringify(cte.name)} is used more than once`);
      }
      const name = quoteIdentifier(cte.name, "CTE");
      const body = this.statement(cte.query);
      frame.set(cte.name, new Set(this.outputColumns(cte.query)));
      this.#activeCtes.add(cte);
      added.push(cte);
      defs.push(`${name} AS (${body})`);
    }
    return defs.length === 0 ? "" : `WITH ${defs.join(", ")}`;
  }

  #endWith(): void {
    this.#ctes.pop();
    for (const cte of this.#cteNodes.pop() ?? []) this.#activeCtes.delete(cte);
  }

  select(node: SelectNode): string {
    const parts: string[] = [];
    const withClause = this.#with(node.ctes);
    if (withClause) parts.push(withClause);
    const sources = node.joins.length === 0
      ? node.from
      : [...node.from, ...node.joins.map((j) => j.source)];
    const level = this.#level(sources);
    if (node.joins.length > 0) this.#merge(level, node.joins, node.from.length);
    this.#scopes.push(level);

    let head = "SELECT";
    if (node.distinctOn.length > 0) {
      head += ` DISTINCT ON (${node.distinctOn.map((e) => this.expr(e)).join(", ")})`;
    } else if (node.distinct) head += " DISTINCT";
    parts.push(head);
    if (node.selections.length > 0) parts.push(this.#selections(node.selections, level));
    if (node.from.length > 0) {
      parts.push("FROM", node.from.map((s) => this.#source(s)).join(", "));
    } else if (node.joins.length > 0) {
      throw invalidQuery("a join needs a FROM table");
    }
    for (let i = 0; i < node.joins.length; i++) {
      parts.push(this.#join(node.joins[i], level, node.from.length + i));
    }
    if (node.where) parts.push("WHERE", this.expr(node.where));
    if (node.groupBy.length > 0) {
      parts.push(
        "GROUP BY",
        node.groupBy.map((e) => this.#outputOrExpr(e, node, false)).join(", "),
      );
    }
    if (node.having) parts.push("HAVING", this.expr(node.having));
    if (node.orderBy.length > 0) {
      parts.push("ORDER BY", node.orderBy.map((o) => this.#orderBy(o, node)).join(", "));
    }
    if (node.limit) parts.push("LIMIT", this.#param(node.limit.value));
    if (node.offset) parts.push("OFFSET", this.#param(node.offset.value));
    if (node.lock) parts.push(this.#lock(node.lock, level));

    this.#scopes.pop();
    this.#endWith();
    return parts.join(" ");
  }

  #selections(items: readonly SelectItemNode[], level: Level): string {
    const out: string[] = [];
    for (const item of items) {
      if (item.kind === "selectAll") {
        if (item.table === null) out.push("*");
        else {
          if (!level.entries.some((e) => e.alias === item.table)) {
            throw invalidQuery(`unknown table ${JSON.stringify(item.table)} in selectAll`);
          }
          out.push(`${quoteIdentifier(item.table, "table")}.*`);
        }
        continue;
      }
      const text = this.expr(item.expr);
      if (
        item.alias === null ||
        (item.expr.kind === "ref" && item.expr.column === item.alias)
      ) {
        if (item.alias === null && item.expr.kind !== "ref") {
          throw invalidQuery("a selected expression needs an alias (use .as(name))");
        }
        out.push(text);
      } else {
        out.push(`${text} AS ${quoteIdentifier(item.alias, "alias")}`);
      }
    }
    return out.join(", ");
  }

  #source(source: SourceNode): string {
    switch (source.kind) {
      case "table": {
        this.#read(source.table.name);
        const name = quoteIdentifier(source.table.name, "table");
        return source.alias === null
          ? name
          : `${name} AS ${quoteIdentifier(source.alias, "alias")}`;
      }
      case "cte": {
        const name = quoteIdentifier(source.name, "CTE");
        return source.alias === null
          ? name
          : `${name} AS ${quoteIdentifier(source.alias, "alias")}`;
      }
      case "subquery":
        return `(${this.select(source.query)}) AS ${quoteIdentifier(source.alias, "alias")}`;
      default:
        throw invalidQuery("unknown source");
    }
  }

  #join(join: JoinNode, level: Level, index: number): string {
    const source = this.#source(join.source);
    if (join.natural) {
      if (join.on || join.using) throw invalidQuery("a NATURAL join takes no ON or USING");
      return `${lookup(NATURAL_JOIN_SQL, join.joinType, "natural join type")} ${source}`;
    }
    const kind = lookup(JOIN_SQL, join.joinType, "join type");
    if (join.joinType === "cross") {
      if (join.on || join.using) throw invalidQuery("a CROSS join takes no ON or USING");
      return `${kind} ${source}`;
    }
    if (join.using) {
      if (join.using.length === 0) throw invalidQuery("USING needs at least one column");
      const right = level.entries[index];
      const left = level.entries.slice(0, index);
      for (const col of join.using) {
        if (!right.columns.has(col) || !left.some((e) => e.columns.has(col))) {
          throw invalidQuery(
            `USING column ${JSON.stringify(col)} must exist in both ${
              JSON.stringify(right.alias)
            } and a table before it`,
          );
        }
      }
      return `${kind} ${source} USING (${
        join.using.map((c) => quoteIdentifier(c, "column")).join(", ")
      })`;
    }
    if (!join.on) throw invalidQuery(`${kind} needs ON or USING`);
    return `${kind} ${source} ON ${this.expr(join.on)}`;
  }

  /** GROUP BY / ORDER BY item: an input column, or else an output column name. */
  #outputOrExpr(e: ExpressionNode, node: SelectNode, outputFirst: boolean): string {
    if (e.kind === "ref" && e.table === null) {
      const isOutput = node.selections.some((s) =>
        s.kind === "selection" &&
        (s.alias ?? (s.expr.kind === "ref" ? s.expr.column : null)) === e.column
      );
      // PostgreSQL: ORDER BY prefers output names, GROUP BY input columns.
      if (isOutput && (outputFirst || !this.#resolvable(e.column))) {
        return quoteIdentifier(e.column, "column");
      }
    }
    return this.expr(e);
  }

  #resolvable(column: string): boolean {
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      for (const e of this.#scopes[i].entries) if (e.columns.has(column)) return true;
    }
    return false;
  }

  #orderBy(o: OrderByNode, node: SelectNode): string {
    let text = `${this.#outputOrExpr(o.expr, node, true)} ${
      lookup(DIRECTION_SQL, o.direction, "sort direction")
    }`;
    if (o.nulls !== null) text += ` ${lookup(NULLS_SQL, o.nulls, "nulls ordering")}`;
    return text;
  }

  #lock(lock: LockNode, level: Level): string {
    let text = lookup(LOCK_SQL, lock.strength, "lock strength");
    if (lock.of.length > 0) {
      for (const t of lock.of) {
        if (!level.entries.some((e) => e.alias === t)) {
          throw invalidQuery(`unknown table ${JSON.stringify(t)} in FOR … OF`);
        }
      }
      text += ` OF ${lock.of.map((t) => quoteIdentifier(t, "table")).join(", ")}`;
    }
    if (lock.wait !== null) text += ` ${lookup(LOCK_WAIT_SQL, lock.wait, "lock wait policy")}`;
    return text;
  }

  #target(t: TableSourceNode): string {
    this.#write(t.table.name);
    const name = quoteIdentifier(t.table.name, "table");
    return t.alias === null ? name : `${name} AS ${quoteIdentifier(t.alias, "alias")}`;
  }

  #targetEntry(t: TableSourceNode): Entry {
    return { alias: t.alias ?? t.table.name, columns: t.table.byName };
  }

  #writableColumn(table: TableSpec, column: string): ColumnSpec {
    const spec = table.byName.get(column);
    if (!spec) {
      throw invalidQuery(`unknown column ${JSON.stringify(column)} in table ${table.name}`);
    }
    if (spec.identity === "always") {
      throw invalidQuery(
        `column ${table.name}.${column} is GENERATED ALWAYS and cannot be written`,
      );
    }
    return spec;
  }

  #returning(items: readonly SelectItemNode[], level: Level): string {
    if (items.length === 0) return "";
    this.#scopes.push(level);
    const text = ` RETURNING ${this.#selections(items, level)}`;
    this.#scopes.pop();
    return text;
  }

  insert(node: InsertNode): string {
    const withClause = this.#with(node.ctes);
    const head = withClause ? `${withClause} ` : "";
    const table = node.table.table;
    let text = `${head}INSERT INTO ${this.#target(node.table)}`;
    const provided = new Set<string>();
    for (const c of node.columns) {
      this.#writableColumn(table, c);
      if (provided.has(c)) throw invalidQuery(`column ${c} is given twice`);
      provided.add(c);
    }
    const columns = node.columns.map((c) => quoteIdentifier(c, "column")).join(", ");
    if (node.defaultValues) {
      text += " DEFAULT VALUES";
    } else if (node.select) {
      if (node.columns.length === 0) throw invalidQuery("INSERT … SELECT needs a column list");
      this.#checkRequired(table, provided, []);
      text += ` (${columns}) ${this.select(node.select)}`;
    } else {
      if (node.rows.length === 0 || node.columns.length === 0) {
        throw invalidQuery(`empty insert into ${table.name} (use defaultValues())`);
      }
      this.#checkRequired(
        table,
        provided,
        node.rows.map((r) => r.map((v) => v.kind === "default")),
      );
      const rows = node.rows.map((row) => {
        if (row.length !== node.columns.length) {
          throw invalidQuery("insert row has the wrong width");
        }
        return `(${row.map((v) => this.expr(v)).join(", ")})`;
      });
      text += ` (${columns}) VALUES ${rows.join(", ")}`;
    }
    const entry = this.#targetEntry(node.table);
    const oc = node.onConflict;
    if (oc) {
      text += " ON CONFLICT";
      if (oc.constraint !== null) {
        text += ` ON CONSTRAINT ${quoteIdentifier(oc.constraint, "constraint")}`;
      } else if (oc.columns.length > 0) {
        for (const c of oc.columns) {
          if (!table.byName.has(c)) {
            throw invalidQuery(`unknown conflict column ${JSON.stringify(c)} in ${table.name}`);
          }
        }
        text += ` (${oc.columns.map((c) => quoteIdentifier(c, "column")).join(", ")})`;
      }
      if (oc.action === "nothing") {
        text += " DO NOTHING";
      } else {
        if (oc.constraint === null && oc.columns.length === 0) {
          throw invalidQuery("ON CONFLICT DO UPDATE needs conflict columns or a constraint");
        }
        // The target first, then `excluded`: an unqualified name means the target's column.
        this.#scopes.push(
          { entries: [{ alias: "excluded", columns: table.byName }], merged: null },
          { entries: [entry], merged: null },
        );
        text += ` DO UPDATE SET ${this.#set(table, oc.set)}`;
        if (oc.where) text += ` WHERE ${this.expr(oc.where)}`;
        this.#scopes.pop();
        this.#scopes.pop();
      }
    }
    text += this.#returning(node.returning, { entries: [entry], merged: null });
    this.#endWith();
    return text;
  }

  #checkRequired(table: TableSpec, provided: Set<string>, defaults: boolean[][]): void {
    const cols = [...provided];
    for (const spec of table.columns) {
      if (spec.nullable || spec.default !== null || spec.identity !== null) continue;
      const i = cols.indexOf(spec.name);
      if (i < 0 || defaults.some((row) => row[i])) {
        throw invalidQuery(`missing value for required column ${table.name}.${spec.name}`);
      }
    }
  }

  #set(table: TableSpec, set: readonly SetNode[]): string {
    if (set.length === 0) throw invalidQuery(`nothing to set in ${table.name}`);
    const seen = new Set<string>();
    return set.map((s) => {
      this.#writableColumn(table, s.column);
      if (seen.has(s.column)) throw invalidQuery(`column ${s.column} is set twice`);
      seen.add(s.column);
      return `${quoteIdentifier(s.column, "column")} = ${this.expr(s.value)}`;
    }).join(", ");
  }

  #requireWhere(where: ExpressionNode | null, allow: boolean, what: string): void {
    const missing = where === null || (where.kind === "logical" && where.op === "and" &&
      where.items.length === 0);
    if (missing && !allow) {
      throw unsafeQuery(`${what} has no WHERE clause; call allowAllRows() to affect every row`);
    }
  }

  update(node: UpdateNode): string {
    this.#requireWhere(node.where, node.allowAllRows, `UPDATE ${node.table.table.name}`);
    const withClause = this.#with(node.ctes);
    const head = withClause ? `${withClause} ` : "";
    const level = this.#level([node.table, ...node.from]);
    this.#scopes.push(level);
    let text = `${head}UPDATE ${this.#target(node.table)} SET ${
      this.#set(node.table.table, node.set)
    }`;
    if (node.from.length > 0) text += ` FROM ${node.from.map((s) => this.#source(s)).join(", ")}`;
    if (node.where) text += ` WHERE ${this.expr(node.where)}`;
    this.#scopes.pop();
    text += this.#returning(node.returning, level);
    this.#endWith();
    return text;
  }

  delete(node: DeleteNode): string {
    this.#requireWhere(node.where, node.allowAllRows, `DELETE FROM ${node.table.table.name}`);
    const withClause = this.#with(node.ctes);
    const head = withClause ? `${withClause} ` : "";
    const level = this.#level([node.table, ...node.using]);
    this.#scopes.push(level);
    let text = `${head}DELETE FROM ${this.#target(node.table)}`;
    if (node.using.length > 0) {
      text += ` USING ${node.using.map((s) => this.#source(s)).join(", ")}`;
    }
    if (node.where) text += ` WHERE ${this.expr(node.where)}`;
    this.#scopes.pop();
    text += this.#returning(node.returning, level);
    this.#endWith();
    return text;
  }

  // -------------------------------------------------------------------------
  // Expressions

  #ref(table: string | null, column: string): string {
    if (table !== null) {
      for (let i = this.#scopes.length - 1; i >= 0; i--) {
        for (const e of this.#scopes[i].entries) {
          if (e.alias !== table) continue;
          if (!e.columns.has(column)) {
            throw invalidQuery(
              `unknown column ${JSON.stringify(column)} in ${JSON.stringify(table)}`,
            );
          }
          return `${quoteIdentifier(table, "table")}.${quoteIdentifier(column, "column")}`;
        }
      }
      throw invalidQuery(
        `unknown table ${JSON.stringify(table)} (for column ${JSON.stringify(column)})`,
      );
    }
    for (let i = this.#scopes.length - 1; i >= 0; i--) {
      const level = this.#scopes[i];
      let found: Entry | undefined;
      for (const e of level.entries) {
        if (!e.columns.has(column)) continue;
        if (found) {
          // USING / NATURAL: the unqualified name is the merged column.
          if (level.merged?.has(column)) return quoteIdentifier(column, "column");
          throw invalidQuery(
            `column ${JSON.stringify(column)} is ambiguous (in ${found.alias} and ${e.alias})`,
          );
        }
        found = e;
      }
      if (found) {
        return `${quoteIdentifier(found.alias, "table")}.${quoteIdentifier(column, "column")}`;
      }
    }
    throw invalidQuery(`unknown column ${JSON.stringify(column)}`);
  }

  #operand(e: ExpressionNode): string {
    const text = this.expr(e);
    return COMPOUND.has(e.kind) ? `(${text})` : text;
  }

  expr(e: ExpressionNode): string {
    switch (e.kind) {
      case "ref":
        return this.#ref(e.table, e.column);
      case "value":
        return this.#param(e.value);
      case "default":
        return "DEFAULT";
      case "binary": {
        const op = BINARY_OPERATOR_SQL.get(e.op);
        if (op === undefined) throw invalidQuery(`unknown operator ${JSON.stringify(e.op)}`);
        return `${this.#operand(e.left)} ${op} ${this.#operand(e.right)}`;
      }
      case "logical": {
        if (e.op !== "and" && e.op !== "or") throw invalidQuery("unknown logical operator");
        if (e.items.length === 0) return e.op === "and" ? "TRUE" : "FALSE";
        if (e.items.length === 1) return this.expr(e.items[0]);
        const sep = e.op === "and" ? " AND " : " OR ";
        return e.items.map((i) =>
          i.kind === "logical" || i.kind === "raw" ? `(${this.expr(i)})` : this.expr(i)
        ).join(sep);
      }
      case "not":
        return `NOT (${this.expr(e.operand)})`;
      case "in": {
        if (Array.isArray(e.list)) {
          const list = e.list as readonly ExpressionNode[];
          // An empty list is invalid SQL; its meaning is FALSE (IN) / TRUE (NOT IN).
          if (list.length === 0) return e.negated ? "1 = 1" : "1 = 0";
          return `${this.#operand(e.left)} ${e.negated ? "NOT IN" : "IN"} (${
            list.map((v) => this.expr(v)).join(", ")
          })`;
        }
        return `${this.#operand(e.left)} ${e.negated ? "NOT IN" : "IN"} (${
          this.select(e.list as SelectNode)
        })`;
      }
      case "between":
        return `${this.#operand(e.left)} ${e.negated ? "NOT BETWEEN" : "BETWEEN"} ${
          this.#operand(e.low)
        } AND ${this.#operand(e.high)}`;
      case "is": {
        const v = e.value === null
          ? "NULL"
          : e.value === true
          ? "TRUE"
          : e.value === false
          ? "FALSE"
          : undefined;
        if (v === undefined) throw invalidQuery("IS takes null, true or false");
        return `${this.#operand(e.operand)} ${e.negated ? "IS NOT" : "IS"} ${v}`;
      }
      case "exists":
        return `${e.negated ? "NOT EXISTS" : "EXISTS"} (${this.select(e.query)})`;
      case "aggregate": {
        if (!AGGREGATE_FUNCTIONS.has(e.fn)) throw invalidQuery(`unknown aggregate ${e.fn}`);
        if (e.arg === null) {
          if (e.fn !== "count") throw invalidQuery(`${e.fn}() needs an argument`);
          return "count(*)";
        }
        return `${e.fn}(${e.distinct ? "DISTINCT " : ""}${this.expr(e.arg)})`;
      }
      case "function":
        if (!SCALAR_FUNCTIONS.has(e.fn)) throw invalidQuery(`unknown function ${e.fn}`);
        return `${e.fn}(${e.args.map((a) => this.expr(a)).join(", ")})`;
      case "subquery":
        return `(${this.select(e.query)})`;
      case "raw":
        return this.raw(e);
      default:
        throw invalidQuery(
          `unknown expression node ${JSON.stringify((e as { kind: unknown }).kind)}`,
        );
    }
  }

  raw(e: RawNode): string {
    if (e.strings.length !== e.values.length + 1) throw invalidQuery("malformed sql fragment");
    let text = e.strings[0];
    this.rawText.push(e.strings[0]);
    for (let i = 0; i < e.values.length; i++) {
      text += this.expr(e.values[i]) + e.strings[i + 1];
      this.rawText.push(e.strings[i + 1]);
    }
    return text;
  }

  // -------------------------------------------------------------------------
  // DDL

  createTable(node: CreateTableNode): string {
    const t = node.table;
    this.#write(t.name);
    const defs = t.columns.map((c) => this.#columnDef(c));
    if (t.primaryKey.length > 0) {
      defs.push(`PRIMARY KEY (${this.#columnList(t, t.primaryKey)})`);
    }
    for (const u of t.unique) defs.push(`UNIQUE (${this.#columnList(t, u)})`);
    return `CREATE TABLE ${node.ifNotExists ? "IF NOT EXISTS " : ""}${
      quoteIdentifier(t.name, "table")
    } (${defs.join(", ")})`;
  }

  dropTable(node: DropTableNode): string {
    this.#write(node.table.name);
    return `DROP TABLE ${node.ifExists ? "IF EXISTS " : ""}${
      quoteIdentifier(node.table.name, "table")
    }${node.cascade ? " CASCADE" : ""}`;
  }

  #columnList(t: TableSpec, cols: readonly string[]): string {
    return cols.map((c) => {
      if (!t.byName.has(c)) throw invalidQuery(`unknown column ${c} in table ${t.name}`);
      return quoteIdentifier(c, "column");
    }).join(", ");
  }

  #columnDef(c: ColumnSpec): string {
    let text = `${quoteIdentifier(c.name, "column")} ${dataTypeSql(c.dataType)}`;
    if (c.identity === "always") text += " GENERATED ALWAYS AS IDENTITY";
    else if (c.identity === "byDefault") text += " GENERATED BY DEFAULT AS IDENTITY";
    else if (c.identity !== null) throw invalidQuery("unknown identity kind");
    if (!c.nullable) text += " NOT NULL";
    if (c.default !== null) {
      switch (c.default.kind) {
        case "now":
          text += " DEFAULT now()";
          break;
        case "randomUuid":
          text += " DEFAULT gen_random_uuid()";
          break;
        case "literal":
          text += ` DEFAULT ${literalSql(c.default.value, c.dataType, c.dataType.arrayDims)}`;
          break;
        default:
          throw invalidQuery("unknown default kind");
      }
    }
    if (c.primaryKey) text += " PRIMARY KEY";
    if (c.unique) text += " UNIQUE";
    if (c.references) {
      const r = c.references;
      text += ` REFERENCES ${quoteIdentifier(r.table, "table")} (${
        quoteIdentifier(r.column, "column")
      })`;
      if (r.onDelete) text += ` ON DELETE ${lookup(REFERENTIAL_SQL, r.onDelete, "action")}`;
      if (r.onUpdate) text += ` ON UPDATE ${lookup(REFERENTIAL_SQL, r.onUpdate, "action")}`;
    }
    return text;
  }
}

function checkModifier(n: number | null, what: string): number | null {
  if (n === null) return null;
  if (!Number.isSafeInteger(n) || n < 0) throw invalidQuery(`invalid ${what}`);
  return n;
}

/** SQL for a column type: `int8`, `varchar(20)`, `numeric(10, 2)`, `int4[]`. */
function dataTypeSql(t: DataTypeSpec, withArray = true): string {
  if (!COLUMN_TYPES.has(t.type)) {
    throw invalidQuery(`unknown column type ${JSON.stringify(t.type)}`);
  }
  let text: string = t.type;
  const length = checkModifier(t.length, "varchar length");
  const precision = checkModifier(t.precision, "numeric precision");
  const scale = checkModifier(t.scale, "numeric scale");
  if (t.type === "varchar" && length !== null) text += `(${length})`;
  if (t.type === "numeric" && precision !== null) {
    text += scale === null ? `(${precision})` : `(${precision}, ${scale})`;
  }
  if (withArray) {
    if (!Number.isSafeInteger(t.arrayDims) || t.arrayDims < 0 || t.arrayDims > 6) {
      throw invalidQuery("invalid array dimensions");
    }
    text += "[]".repeat(t.arrayDims);
  }
  return text;
}

const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

/** `E'…'` with `\` and `'` escaped: safe whatever `standard_conforming_strings` says. */
function stringLiteral(s: string): string {
  if (s.includes("\0")) throw invalidQuery("a literal cannot contain NUL");
  return `E'${s.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/**
 * A DEFAULT literal. DDL cannot take parameters, so the value is rendered:
 * numbers after a finiteness check, strings escaped (with a cast), never
 * caller text as SQL.
 */
function literalSql(value: unknown, t: DataTypeSpec, dims: number): string {
  if (value === null) return "NULL";
  if (dims > 0) {
    if (!Array.isArray(value)) throw invalidQuery("an array default must be an array");
    const items = value.map((v) => literalSql(v, t, dims - 1));
    const inner = `ARRAY[${items.join(", ")}]`;
    return dims === t.arrayDims ? `${inner}::${dataTypeSql(t)}` : inner;
  }
  const base = dataTypeSql(t, false);
  const bad = () => invalidQuery(`default does not fit a ${t.type} column`);
  switch (t.type) {
    case "int2":
    case "int4":
    case "int8":
      if (typeof value === "bigint") return value.toString();
      if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
      throw bad();
    case "float4":
    case "float8":
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      throw bad();
    case "numeric":
      if (typeof value === "number" && Number.isFinite(value)) return String(value);
      if (typeof value === "string" && DECIMAL.test(value)) return value;
      throw bad();
    case "boolean":
      if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
      throw bad();
    case "text":
    case "varchar":
    case "uuid":
      if (typeof value === "string") return `${stringLiteral(value)}::${base}`;
      throw bad();
    case "timestamptz":
    case "timestamp":
    case "date": {
      let s: string;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw bad();
        s = t.type === "date" ? value.toISOString().slice(0, 10) : value.toISOString();
      } else if (typeof value === "string") s = value;
      else throw bad();
      return `${stringLiteral(s)}::${base}`;
    }
    case "json":
    case "jsonb": {
      const s = JSON.stringify(value);
      if (s === undefined) throw bad();
      return `${stringLiteral(s)}::${base}`;
    }
    case "bytea": {
      if (!(value instanceof Uint8Array)) throw bad();
      let hex = "";
      for (const b of value) hex += b.toString(16).padStart(2, "0");
      return `${stringLiteral(`\\x${hex}`)}::bytea`;
    }
    default:
      throw bad();
  }
}

import VaporCSQLite

/// One SQLite connection over the C API (the SQLite that sqlite-nio carries), with every statement
/// prepared once and kept: the queue runs the same handful of statements for every webhook, and
/// preparing them each time was 8% of the queued path's CPU.
///
/// Not thread-safe: ``SQLiteThread`` is its only user and calls it from one thread.
final class SQLiteDatabase {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (creating if needed) the database file at `path`.
    init(path: String, busyTimeoutMilliseconds: Int) throws(SQLiteFailure) {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let failure = SQLiteFailure(code: code, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open")
            sqlite_nio_sqlite3_close(handle)
            handle = nil
            throw failure
        }
        sqlite_nio_sqlite3_busy_timeout(handle, Int32(clamping: busyTimeoutMilliseconds))
    }

    deinit { close() }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite_nio_sqlite3_close(handle) }
        handle = nil
    }

    /// Runs `sql` with `binds` and returns its rows (empty for statements without results).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue] = []) throws(SQLiteFailure) -> [SQLRow] {
        let statement = try prepared(sql)
        // Every parameter is bound on every run, so the old bindings need no clearing; and
        // `sqlite3_clear_bindings` would expire any statement whose plan looked at a bound value,
        // which SQLite then re-prepares at its next step.
        defer { sqlite_nio_sqlite3_reset(statement) }
        guard binds.count == Int(sqlite_nio_sqlite3_bind_parameter_count(statement)) else {
            throw SQLiteFailure(code: SQLITE_RANGE, message: "\(binds.count) values for the parameters of: \(sql)")
        }
        for (index, value) in binds.enumerated() {
            try check(bind(value, at: Int32(index + 1), in: statement))
        }
        var rows: [SQLRow] = []
        var names: [String]?
        while true {
            let code = sqlite_nio_sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure(code) }
            let count = sqlite_nio_sqlite3_column_count(statement)
            if names == nil {
                names = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
            }
            rows.append(SQLRow(names: names ?? [], values: (0..<count).map { column(Int32($0), of: statement) }))
        }
    }

    /// The statement for `sql`, prepared on first use and kept.
    private func prepared(_ sql: String) throws(SQLiteFailure) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        guard handle != nil else { throw SQLiteFailure.closed }
        var statement: OpaquePointer?
        let code = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        case .integer(let number): sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
        case .real(let number): sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .text(let text): sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
        case .blob(let bytes) where bytes.isEmpty: sqlite_nio_sqlite3_bind_zeroblob(statement, index, 0)
        case .blob(let bytes): bytes.withUnsafeBytes { sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient) }
        }
    }

    private func column(_ index: Int32, of statement: OpaquePointer) -> SQLValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT:
            return .real(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_NULL:
            return .null
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return .null }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        }
    }

    private func check(_ code: Int32) throws(SQLiteFailure) {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> SQLiteFailure {
        SQLiteFailure(code: code, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "the database is closed")
    }
}

/// SQLite's "copy this text now" destructor, a macro the importer does not bring over.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A value bound to, or read from, a statement.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int)
    case real(Double)
    case text(String)
    case blob([UInt8])

    init(_ text: String?) {
        self = text.map(SQLValue.text) ?? .null
    }

    var integer: Int? {
        switch self {
        case .integer(let number): number
        case .real(let number): Int(exactly: number.rounded(.towardZero))
        default: nil
        }
    }

    var real: Double? {
        switch self {
        case .real(let number): number
        case .integer(let number): Double(number)
        default: nil
        }
    }

    var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    var blob: [UInt8]? {
        if case .blob(let bytes) = self { return bytes }
        return nil
    }
}

/// One result row; columns are found by name.
struct SQLRow: Sendable {
    let names: [String]
    let values: [SQLValue]

    subscript(_ name: String) -> SQLValue {
        names.firstIndex(of: name).map { values[$0] } ?? .null
    }
}

/// What SQLite said when a call failed.
struct SQLiteFailure: Error, Sendable, CustomStringConvertible {
    let code: Int32
    let message: String

    static let closed = SQLiteFailure(code: SQLITE_MISUSE, message: "the database is closed")

    var description: String {
        "\(message) (SQLite code \(code))"
    }
}

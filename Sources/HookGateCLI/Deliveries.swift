import ArgumentParser
import Foundation
import HookGate
import Logging

struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "Show the delivery queue, retry dead letters, purge what is done.",
        discussion: """
            Works on the queue of a running hookgate too: the server picks up retried deliveries
            within a second.

            Examples:
              hookgate deliveries --data-dir /var/lib/hookgate
              hookgate deliveries retry 42 --data-dir /var/lib/hookgate
              hookgate deliveries retry --all-failed
              hookgate deliveries purge --failed
            """,
        subcommands: [List.self, Retry.self, Purge.self],
        defaultSubcommand: List.self
    )

    struct DataOptions: ParsableArguments {
        @Option(help: ArgumentHelp("The queue's folder, as given to serve.", valueName: "dir"))
        var dataDir: String = DataDirectory.default

        func open() async throws -> DeliveryStore {
            guard FileManager.default.fileExists(atPath: (dataDir as NSString).appendingPathComponent(DeliveryStore.fileName)) else {
                printError("no delivery queue in \(dataDir); pass the --data-dir that serve uses")
                throw ExitCode(1)
            }
            var logger = Logger(label: "hookgate")
            logger.logLevel = .error
            do {
                return try await DeliveryStore.open(directory: dataDir, logger: logger)
            } catch {
                printError("\(error)")
                throw ExitCode(1)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pending, failed and recent deliveries (the default).")

        @OptionGroup var options: DataOptions

        @Option(help: "How many rows of each kind to show.")
        var limit = 50

        func run() async throws {
            let store = try await options.open()
            let counts = try await store.counts()
            print("pending \(counts[.pending] ?? 0), failed \(counts[.failed] ?? 0), delivered \(counts[.delivered] ?? 0)")
            let paused = try await store.pausedTargets()
            if !paused.isEmpty {
                let formatter = ISO8601DateFormatter()
                print("\nPAUSED (failing backends, probed once per interval)")
                printTable(
                    header: ["TARGET", "FAILURES IN A ROW", "SINCE", "NEXT PROBE"],
                    rows: paused.map { [$0.target, String($0.failures), formatter.string(from: $0.since), formatter.string(from: $0.nextProbe)] })
            }
            for (title, states) in [("PENDING", [StoredDelivery.State.pending]), ("FAILED", [.failed]), ("RECENTLY DELIVERED", [.delivered])] {
                let rows = try await store.list(states: states, limit: limit)
                guard !rows.isEmpty else { continue }
                print("\n\(title)")
                printDeliveries(rows)
            }
            await store.close()
        }

        func printDeliveries(_ rows: [StoredDelivery]) {
            let formatter = ISO8601DateFormatter()
            printTable(
                header: ["ID", "ENDPOINT", "DELIVERY", "TARGET", "ATTEMPTS", "NEXT TRY", "LAST ERROR"],
                rows: rows.map { row in
                    [String(row.id), row.endpoint, row.deliveryID ?? "-", row.target, String(row.attempts),
                     row.state == .pending ? formatter.string(from: row.nextAttemptAt) : "-", row.lastError ?? ""]
                })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a dead letter (or all of them) back in the queue.")

        @OptionGroup var options: DataOptions

        @Argument(help: "The delivery's ID (from `hookgate deliveries`).")
        var id: Int?

        @Flag(help: "Retry every failed delivery.")
        var allFailed = false

        func validate() throws {
            guard (id == nil) != (!allFailed) else { throw ValidationError("give an ID or --all-failed") }
        }

        func run() async throws {
            let store = try await options.open()
            let count = try await store.retry(id: allFailed ? nil : id)
            await store.close()
            if !allFailed && count == 0 {
                printError("no failed delivery with ID \(id ?? 0)")
                throw ExitCode(1)
            }
            print("requeued \(count) deliver\(count == 1 ? "y" : "ies")")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete delivered rows (and dead letters with --failed).")

        @OptionGroup var options: DataOptions

        @Flag(help: "Also delete failed deliveries (dead letters).")
        var failed = false

        func run() async throws {
            let store = try await options.open()
            let count = try await store.purge(failed: failed, seenBefore: Date().addingTimeInterval(-7 * 24 * 3600))
            await store.close()
            print("deleted \(count) deliver\(count == 1 ? "y" : "ies")")
        }
    }
}

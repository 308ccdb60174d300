import Foundation

/// Prints rows in aligned columns; the last column is not padded.
func printTable(header: [String], rows: [[String]]) {
    let lines = [header] + rows
    let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
    for line in lines {
        print(line.enumerated().map { column, cell in
            column == line.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  "))
    }
}

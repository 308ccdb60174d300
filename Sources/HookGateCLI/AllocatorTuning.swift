#if canImport(Glibc)
import Glibc
#endif

/// glibc returns the top of a thread's heap to the kernel (`madvise`) as soon as more than 128 KiB
/// of it is free. A request's buffers come and go on many threads, so under load the server paid
/// for a trim, the TLB shootdown it sends every core and the page faults that refill it, again and
/// again: 8% `madvise` and 3.6% IPIs in `perf` of the sync path (docs/performance.md). Keeping up to
/// 16 MiB free per heap took about 12% off the CPU per sync request, with the same peak RSS.
enum AllocatorTuning {
    /// `M_TRIM_THRESHOLD` in glibc's malloc.h, which Swift's Glibc module does not import.
    static let trimThreshold: Int32 = -1

    static func apply() {
        #if canImport(Glibc)
        // mallopt through the C calling convention (malloc.h is not in the Glibc module).
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: Mallopt.self)(trimThreshold, 16 << 20)
        #endif
    }
}

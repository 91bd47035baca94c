#if canImport(Glibc)
import Glibc
#endif

/// Hands memory the process has freed back to the operating system.
///
/// The work on a large review takes a hundred megabytes or more, freed when it is answered. glibc keeps freed memory
/// in the arena of the thread that freed it, and successive large reviews run on different admission threads, so
/// without this the resident set grows to one review's worth per thread, past the memory the budget plans for.
/// Called after large reviews only: it walks every arena, which costs far less than such a review.
func releaseFreedMemory() {
    #if canImport(Glibc)
    _ = MallocTrim.function?(0)
    #endif
}

#if canImport(Glibc)
/// glibc's `malloc_trim`, looked up once: Swift's Glibc module does not export `<malloc.h>`.
enum MallocTrim {
    typealias Function = @convention(c) (Int) -> Int32

    static let function: Function? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()
}
#endif

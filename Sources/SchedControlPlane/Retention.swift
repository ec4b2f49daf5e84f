import DequeModule
import SchedCore

/// Finished jobs in the order they finished, and how many have left memory for the store.
struct Retention {
    /// Jobs in the order they finished (monotonic ms).
    var finishedOrder = Deque<(atMs: Int64, id: JobID)>()
    /// Finished jobs dropped from memory so far.
    var evicted = 0
}

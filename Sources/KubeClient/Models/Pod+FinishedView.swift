extension Pod {
    /// Shrinks the Pod to its metadata and phase, for a cache that keeps the Pod of a task
    /// that is over: the spec, the container states and the conditions go, which are most of
    /// what a status view (``trimToStatusView(keepingLabels:annotations:interner:)``) keeps.
    /// Never write it back.
    public mutating func trimToFinishedView() {
        spec = nil
        status = status.map { PodStatus(phase: $0.phase) }
        unknownFields = [:]
    }
}

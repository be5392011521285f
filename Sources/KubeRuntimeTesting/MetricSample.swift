/// The value of the sample `series` (its name and labels as written, e.g.
/// `workqueue_depth{name="taskaction"}`) in a Prometheus text exposition, or nil when absent.
public func metricSample(_ text: String, _ series: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
}

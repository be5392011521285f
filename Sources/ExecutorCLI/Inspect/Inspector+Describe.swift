import ExecutorAPI
import ExecutorControllers
import FlyteIDL
import Foundation
import KubeClient
import SwiftProtobuf
import TaskPlugins

extension Inspector {
    /// One attempt's child object as the cluster has it now.
    struct ChildState {
        var attempt: Int
        var kind: String
        var name: String
        /// nil: not found (never made, or deleted since).
        var state: String?
        var color: TerminalStyle.Color?
        var started: Date?
        var finished: Date?
    }

    /// Reads what `describe` shows: the TaskAction, every attempt's child, and the Events about
    /// all of them.
    func describe(_ name: String, namespace: String) async throws -> String {
        let taskAction = try await taskAction(name, namespace: namespace)
        var children: [ChildState] = []
        var regarding: [String] = [name]
        for attempt in 1...max(1, TaskActionView(taskAction).attempt) {
            guard let (type, childName) = child(of: taskAction, attempt: attempt) else { continue }
            regarding.append(childName)
            var state = ChildState(attempt: attempt, kind: type.kind, name: childName)
            if let object = try? await client.get(type, name: childName, namespace: namespace) {
                Self.read(object, into: &state)
            }
            children.append(state)
        }
        var events: [Event] = []
        var eventsUnavailable: String?
        for object in regarding {
            // The events API's field selector, as kubectl describe asks for each object.
            do {
                events += try await client.list(Event.self, namespace: namespace, options: ListOptions(fieldSelector: "regarding.name=\(object)")).items
            } catch {
                eventsUnavailable = InspectError.explain(error, resource: Event.resourceType, namespace: namespace).description
                break
            }
        }
        return renderDescription(taskAction, children: children, events: events, eventsUnavailable: eventsUnavailable)
    }

    /// A child's state in a few words: a Pod's phase and its container's reason and exit
    /// code; a SparkApplication's application state; a RayJob's deployment and job status.
    static func read(_ object: JSONValue, into state: inout ChildState) {
        let status = object["status"] ?? .null
        if state.kind == "Pod" {
            let phase = status["phase"]?.stringValue ?? "Pending"
            var words = phase
            let container = status["containerStatuses"]?[0]?["state"]
            if let terminated = container?["terminated"] {
                let reason = terminated["reason"]?.stringValue ?? ""
                words += " (\(reason)\(reason.isEmpty ? "" : ", ")exit \(terminated["exitCode"]?.intValue ?? 0))"
                state.finished = terminated["finishedAt"]?.stringValue.flatMap(KubeTime.parse)
            } else if let reason = container?["waiting"]?["reason"]?.stringValue {
                words += " (\(reason))"
            }
            state.state = words
            state.color = phase == "Succeeded" ? .green : phase == "Failed" ? .red : phase == "Running" ? .blue : .yellow
            state.started = status["startTime"]?.stringValue.flatMap(KubeTime.parse)
            return
        }
        let spark = status["applicationState"]?["state"]?.stringValue
        let rayDeployment = status["jobDeploymentStatus"]?.stringValue
        let rayJob = status["jobStatus"]?.stringValue
        let words = spark ?? [rayDeployment, rayJob].compactMap { $0 }.joined(separator: "/")
        state.state = words.isEmpty ? "created" : words
        let upper = words.uppercased()
        state.color = upper.contains("FAIL") ? .red : upper.contains("COMPLETE") || upper.contains("SUCCEEDED") ? .green : .blue
        state.started = (status["lastSubmissionAttemptTime"] ?? status["startTime"])?.stringValue.flatMap(KubeTime.parse)
        state.finished = (status["terminationTime"] ?? status["endTime"])?.stringValue.flatMap(KubeTime.parse)
    }

    /// `status.cacheStatus` (a `flyteidl2.core.CatalogCacheStatus`) for people.
    static func cacheStatusText(_ status: Int32) -> String {
        switch status {
        case 0: "disabled"
        case 1: "miss"
        case 2: "hit (outputs taken from the cache; nothing ran)"
        case 3: "populated (outputs recorded in the cache)"
        case 4: "lookup failed (ran without the cache)"
        case 5: "recording the outputs failed"
        case 6: "skipped"
        case 7: "evicted"
        default: "status \(status)"
        }
    }

    /// The report: spec summary, timeline, attempts with their children, error, events.
    /// - Parameter eventsUnavailable: why the Events could not be read, said in their place.
    func renderDescription(_ taskAction: TaskAction, children: [ChildState], events: [Event], eventsUnavailable: String? = nil) -> String {
        let now = self.now()
        let view = TaskActionView(taskAction)
        let spec = taskAction.spec
        var out = ""
        func field(_ label: String, _ value: String) {
            out += style.bold(label + ":") + String(repeating: " ", count: max(1, 14 - label.count)) + value + "\n"
        }
        func clock(_ date: Date) -> String { KubeTime.format(date) }
        func offset(_ date: Date) -> String {
            guard let created = view.created else { return "" }
            return "+" + HumanDuration.format(date.timeIntervalSince(created))
        }

        field("Name", taskAction.metadata.name ?? "")
        field("Namespace", taskAction.metadata.namespace ?? "")
        field("Run", spec.runName)
        field("Action", spec.actionName + (spec.parentActionName.map { " (parent \($0))" } ?? ""))
        field("Project", spec.project)
        field("Domain", spec.domain)
        field("Task type", spec.taskType ?? "")
        if let template = spec.taskTemplateBytes.flatMap({ try? Flyteidl2_Core_TaskTemplate(serializedBytes: $0) }) {
            if !template.id.name.isEmpty { field("Task", "\(template.id.name)\(template.id.version.isEmpty ? "" : " (version \(template.id.version))")") }
            if case .container = template.target {
                field("Image", template.container.image)
                if let resources = try? ResourceMapping.requirements(template.container.resources, gpuResourceName: "nvidia.com/gpu") {
                    func list(_ map: [String: String]?) -> String { (map ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
                    field("Resources", "requests \(list(resources.requests)); limits \(list(resources.limits))")
                }
            }
            let retries = Int(template.metadata.retries.retries)
            field("Retries", "\(retries) (\(retries + 1) attempt\(retries == 0 ? "" : "s") allowed)")
            if template.metadata.hasTimeout { field("Timeout", HumanDuration.format(Double(template.metadata.timeout.seconds))) }
            if template.metadata.discoverable {
                var cache = "on" + (spec.cacheKey.map { $0.isEmpty ? "" : ", version \($0)" } ?? "") + (template.metadata.cacheSerializable ? ", serialized" : "")
                if let status = taskAction.status?.cacheStatus { cache += ": " + Self.cacheStatusText(status) }
                field("Cache", cache)
            }
        }
        if spec.interruptible == true { field("Interruptible", "yes") }
        field("Phase", style.phase(view.phase) + " (attempt \(view.attempt))")
        if let created = view.created { field("Created", "\(clock(created)) (\(HumanDuration.format(now.timeIntervalSince(created))) ago)") }
        if let duration = view.duration(now: now) { field("Duration", HumanDuration.format(duration) + (view.isTerminal ? "" : " so far")) }

        let steps = view.steps(now: now)
        out += "\n" + style.bold("Timeline:") + "\n"
        if steps.isEmpty {
            out += "  (no phase recorded yet)\n"
        } else {
            var table = TextTable(["ATTEMPT", "PHASE", "AT", "OFFSET", "FOR", "MESSAGE"])
            for step in steps {
                table.add([(String(step.attempt), nil), (step.phase, TerminalStyle.color(ofPhase: step.phase)), (clock(step.at), nil), (offset(step.at), nil),
                           (step.lasted.map(HumanDuration.format) ?? "-", nil), (step.message ?? "", nil)])
            }
            out += table.render(style: style, indent: "  ")
        }

        out += "\n" + style.bold("Attempts:") + "\n"
        let byAttempt = Dictionary(grouping: steps, by: \.attempt)
        for attempt in 1...max(1, view.attempt) {
            let own = byAttempt[attempt] ?? []
            let first = own.first?.at
            let last = own.last
            let end: Date? = last.flatMap { step in step.lasted.map { step.at.addingTimeInterval($0) } } ?? (attempt == view.attempt && view.isTerminal ? last?.at : nil)
            var line = "  #\(attempt)"
            if let first { line += "  \(clock(first))" }
            if let first {
                let spent = (end ?? now).timeIntervalSince(first)
                line += "  \(HumanDuration.format(spent))\(end == nil ? " so far" : "")"
            }
            if let last { line += "  ended \(style.phase(attempt < view.attempt ? "Failed" : last.phase))" }
            out += line + "\n"
            if !own.isEmpty {
                out += "      phases: " + own.map { step in "\(step.phase) \(step.lasted.map(HumanDuration.format) ?? "")".trimmingCharacters(in: .whitespaces) }.joined(separator: " → ") + "\n"
            }
            if let child = children.first(where: { $0.attempt == attempt }) {
                let missing = attempt < view.attempt ? "deleted (a failed attempt's child goes when the next attempt starts)" : "not found"
                let state = child.state.map { style.paint($0, child.color) } ?? missing
                var line = "      \(child.kind) \(child.name): \(state)"
                if let started = child.started, let finished = child.finished { line += ", ran \(HumanDuration.format(finished.timeIntervalSince(started)))" }
                out += line + "\n"
            }
        }

        if let error = view.status.errorState {
            out += "\n" + style.bold(view.isTerminal ? "Error:" : "Last error:") + "\n"
            out += "  Code:     \(error.code ?? "")\n  Kind:     \(error.kind ?? "")\n  Message:  \(style.paint(oneLine(error.message ?? ""), .red))\n"
        } else if let failed = view.terminalCondition, failed.type == TaskActionConditionType.failed.rawValue {
            out += "\n" + style.bold("Error:") + "\n  Reason:   \(failed.reason)\n  Message:  \(style.paint(oneLine(failed.message), .red))\n"
        }

        out += "\n" + style.bold("Events:") + "\n"
        let sorted = events.map { ($0, Self.time(of: $0)) }.sorted { ($0.1 ?? .distantPast, $0.0.metadata.name ?? "") < ($1.1 ?? .distantPast, $1.0.metadata.name ?? "") }
        if let eventsUnavailable {
            out += "  (cannot read them: \(eventsUnavailable))\n"
        } else if sorted.isEmpty {
            out += "  <none>\n"
        } else {
            var table = TextTable(["AT", "OFFSET", "TYPE", "REASON", "OBJECT", "MESSAGE"])
            for (event, time) in sorted {
                let count = event.series.map { " (x\($0.count))" } ?? ""
                table.add([(time.map(clock) ?? "", nil), (time.map(offset) ?? "", nil), (event.type ?? "", event.type == "Warning" ? .yellow : nil), (event.reason ?? "", nil),
                           ("\(event.regarding?.kind ?? "")/\(event.regarding?.name ?? "")", nil), (oneLine(event.note ?? "") + count, nil)])
            }
            out += table.render(style: style, indent: "  ")
        }
        return out
    }

    static func time(of event: Event) -> Date? {
        [event.series?.lastObservedTime, event.eventTime, event.deprecatedLastTimestamp, event.metadata.creationTimestamp].compactMap { $0 }.lazy.compactMap(KubeTime.parse).first
    }
}

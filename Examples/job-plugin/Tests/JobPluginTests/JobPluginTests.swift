import ExecutorAPI
import FlyteIDL
import Foundation
import JobPlugin
import KubeClient
import PluginConformance
import TaskPlugins
import Testing

/// The example plugin passes the executor's conformance kit: the offline rules, the abort,
/// and a TaskAction run end to end against KubeSandbox, where the test plays the Job controller.
@Suite("Job plugin")
struct JobPluginTests {
    static var template: Flyteidl2_Core_TaskTemplate {
        var t = Flyteidl2_Core_TaskTemplate()
        t.id.resourceType = .task
        t.id.project = "flytesnacks"
        t.id.domain = "development"
        t.id.name = "jobs.batch_step"
        t.id.version = "v1"
        t.type = "k8s_job"
        var c = Flyteidl2_Core_Container()
        c.image = "busybox:1.36"
        c.args = ["sh", "-c", "echo done > {{.outputPrefix}}/done"]
        t.container = c
        return t
    }

    static func job(active: Int = 0, condition: String? = nil, reason: String = "") -> Job {
        var status: JSONValue = ["active": .int(Int64(active))]
        if let condition {
            status["conditions"] = [["type": .string(condition), "status": "True", "reason": .string(reason), "lastTransitionTime": "2026-11-29T10:05:00Z"]]
        }
        return Job(metadata: ObjectMeta(name: "j"), status: status)
    }

    static var fixtures: ConformanceFixtures<Job> {
        ConformanceFixtures(
            template: template, taskType: "k8s_job",
            states: ["active": job(active: 1), "complete": job(condition: "Complete"), "failed": job(condition: "Failed", reason: "BackoffLimitExceeded")],
            sequence: [
                ["active": 1, "startTime": "2026-11-29T10:00:00Z"],
                ["active": 0, "succeeded": 1, "completionTime": "2026-11-29T10:05:00Z",
                 "conditions": [["type": "Complete", "status": "True", "lastTransitionTime": "2026-11-29T10:05:00Z"]]],
            ])
    }

    @Test("JobPlugin passes every rule of the conformance kit")
    func conforms() async throws {
        let violations = try await PluginConformance.check(JobPlugin(), Self.fixtures)
        #expect(violations.isEmpty, "\(violations)")
    }

    @Test("the Job runs the task's container once, with no Job-level retries, and labels its Pod with the Job's name")
    func builds() throws {
        let context = try PluginConformance.context(JobPlugin(), Self.fixtures)
        let job = try JobPlugin().build(context)
        #expect(job.spec?["backoffLimit"] == 0 && job.spec?["completions"] == 1)
        #expect(job.spec?.value(atPath: "template.spec.restartPolicy") == "Never")
        #expect(job.spec?.value(atPath: "template.spec.containers")?.arrayValue?.first?["image"] == "busybox:1.36")
        #expect(job.spec?.value(atPath: "template.metadata.labels")?[TaskActionLabels.childName] == .string(context.generatedName))
    }
}

import ExecutorControllers
import ExecutorFuzzing
import Foundation
import KubeClient
import TaskPlugins
import Testing

/// Replays every fuzz target's committed seeds and every input that ever made one crash
/// (`Fuzz/corpus/<target>/`, `Fuzz/regressions/<target>/`), so a fixed crash stays fixed
/// without libFuzzer in the build. A regression fails by crashing the test process.
@Suite("Fuzz corpus replay")
struct FuzzCorpusReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ target: FuzzTarget, in folder: String) -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test("every target's seeds and regression inputs run", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let seeds = Self.inputs(target, in: "corpus")
        #expect(seeds.count >= 2, "Fuzz/corpus/\(target.rawValue) should hold seeds")
        for file in seeds + Self.inputs(target, in: "regressions") {
            target.run(Array(try Data(contentsOf: file)))
        }
    }

    @Test("the config and kubeconfig seeds are valid, so fuzzing starts deep in the parsers")
    func seedsAreValid() throws {
        let yaml = Self.fuzzDirectory.appendingPathComponent("corpus/yaml")
        let config = try ExecutorConfig.parse(yaml: String(contentsOf: yaml.appendingPathComponent("executor-config"), encoding: .utf8), path: "seed")
        #expect(config.maxSystemFailures == 3 && config.notifications.webhooks.count == 1)
        let kubeconfig = try KubeConfigFile.parse(yaml: String(contentsOf: yaml.appendingPathComponent("kubeconfig"), encoding: .utf8), path: "seed")
        #expect(kubeconfig.currentContext == "c")
        // The secret annotation seeds hold two readable secrets each.
        for seed in Self.inputs(.secretAnnotations, in: "corpus") {
            let lines = try String(contentsOf: seed, encoding: .utf8).split(separator: "\n")
            let annotations = Dictionary(uniqueKeysWithValues: lines.enumerated().map { (SecretAnnotations.prefix + String($0.offset), String($0.element)) })
            #expect(try SecretAnnotations.secrets(in: annotations).count == 2, "\(seed.lastPathComponent)")
        }
    }
}

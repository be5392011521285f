import ExecutorAPI
import FlyteIDL
import Foundation
import SwiftProtobuf
import Testing
import TaskPlugins
@testable import KubeClient

@Suite("Pod request bodies")
struct PodEncodingTests {
    @Test("the Pods the Pod plugin builds are written in one pass, with no tree in between, and read back whole")
    func podsStream() throws {
        for template in [Fixtures.template(), try Self.k8sPodTemplate()] {
            let decoded = try Flyteidl2_Core_TaskTemplate(serializedBytes: template)
            let pod = try PodPlugin().build(PluginTests.context(decoded))
            let writer = StreamWriter(stamping: (Pod.resourceType.apiVersion, Pod.resourceType.kind))
            try writer.write(pod, path: [])
            writer.closeAll()
            #expect(writer.outOfOrder == false)
            #expect(try JSONBytesDecoder().decode(Pod.self, from: writer.out) == pod)
            #expect(try JSONBytesDecoder().decode(Pod.self, from: KubernetesClient.encode(pod)) == pod)
        }
    }

    static func k8sPodTemplate() throws -> Data {
        var template = Flyteidl2_Core_TaskTemplate()
        template.type = "python"
        template.config = ["primary_container_name": "main"]
        var pod = Flyteidl2_Core_K8sPod()
        pod.podSpec = try Google_Protobuf_Struct(jsonString: #"{"containers":[{"name":"main","image":"img","ports":[{"containerPort":80}]}],"nodeSelector":{"pool":"gpu"},"dnsPolicy":"None"}"#)
        template.k8SPod = pod
        return try template.serializedBytes()
    }
}

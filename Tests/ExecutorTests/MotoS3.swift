import Crypto
import FlyteDataPlane
import Foundation
import KubeClient
import KubeRuntime

/// A real S3-compatible server for tests: moto (`pip install 'moto[server]'`, which `.ci/run`
/// installs) on a free loopback port, with signature checking on. moto checks SigV4 only
/// after its first unauthenticated actions, so the first three make an IAM user with an
/// access key and an s3:* policy; every request after that must be signed with that key.
final class MotoS3: Sendable {
    let process: ChildProcess.Running
    let port: Int
    let credentials: AWSCredentials
    let http: HTTPFetcher
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Why moto cannot run here, or nil when it can.
    static func unavailable() async -> String? {
        await command() == nil ? "moto_server is not installed (pip install 'moto[server]'; .ci/run installs it)" : nil
    }

    /// `moto_server` on PATH, else `python3 -m moto.server` when Python can import it (pip
    /// may put scripts in a directory that is not on PATH). Looked up once, and awaited rather
    /// than waited for: Python takes seconds to import moto on a loaded machine, and a blocked
    /// thread is half of the cooperative pool on 2 cores.
    static func command() async -> [String]? { await lookup.value }

    private static let lookup = Task<[String]?, Never> {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/moto_server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return [candidate] }
        }
        for directory in path.split(separator: ":") {
            let python = "\(directory)/python3"
            guard FileManager.default.isExecutableFile(atPath: python) else { continue }
            let probe = try? await ChildProcess.run(python, ["-c", "import moto.server"])
            return probe?.status == 0 ? [python, "-m", "moto.server"] : nil
        }
        return nil
    }

    /// A free port now (the kernel's choice, released at once).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `body` with a new server and a transport for the stores under test, stopping
    /// both however `body` ends; prints why and returns when moto is not installed.
    static func with(_ body: (MotoS3, HTTPFetcher) async throws -> Void) async throws {
        if let reason = await unavailable() {
            print("skipped: \(reason)")
            return
        }
        let moto = try await start()
        let http: HTTPFetcher
        do {
            http = try HTTPFetcher(timeout: .seconds(10))
        } catch {
            await moto.stop()
            throw error
        }
        do {
            try await body(moto, http)
        } catch {
            await moto.stop()
            await http.shutdown()
            throw error
        }
        await moto.stop()
        await http.shutdown()
    }

    /// Starts moto on `port` (a free one by default) and sets up the user.
    static func start(port: Int? = nil) async throws -> MotoS3 {
        guard let command = await command() else { throw MotoUnavailable(reason: await unavailable() ?? "") }
        let port = try port ?? freePort()
        // Through a shell that stops moto when this test process ends, even by a crash
        // (else an orphaned moto outlives the run), or when it is told to stop.
        let watcher = """
            "$@" & m=$!
            trap 'kill -9 $m 2>/dev/null; exit 0' TERM INT
            while kill -0 \(getpid()) 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done
            kill -9 $m 2>/dev/null
            """
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        let process = try ChildProcess.start("/bin/sh", ["-c", watcher, "moto"] + command + ["-H", "127.0.0.1", "-p", String(port)], environment: environment)
        let http = try HTTPFetcher(timeout: .seconds(10))
        do {
            let credentials = try await setUp(process: process, port: port, http: http)
            return MotoS3(process: process, port: port, credentials: credentials, http: http)
        } catch {
            process.terminate()
            await http.shutdown()
            throw error
        }
    }

    /// Waits for the server, then makes the user and its key.
    private static func setUp(process: ChildProcess.Running, port: Int, http: HTTPFetcher) async throws -> AWSCredentials {
        // Up when it answers; a busy machine may take several seconds to start Python.
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            if (try? await http.fetch(HTTPFetchRequest(method: "GET", url: "http://127.0.0.1:\(port)/moto-api/"), maxBytes: 1 << 20)) != nil { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw MotoUnavailable(reason: "moto_server did not answer on port \(port)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let setup = AWSCredentials(accessKeyId: "AKIDSETUP", secretAccessKey: "setup")
        func iam(_ form: [(String, String)]) async throws -> String {
            let body = Array((form + [("Version", "2010-05-08")]).map { "\($0.0)=\(SigV4Signer.uriEncode($0.1, slash: true))" }.joined(separator: "&").utf8)
            let response = try await signed(http: http, credentials: setup, service: "iam", method: "POST", port: port, path: "/", body: body, contentType: "application/x-www-form-urlencoded")
            return String(decoding: response.body, as: UTF8.self)
        }
        _ = try await iam([("Action", "CreateUser"), ("UserName", "executor")])
        let key = try await iam([("Action", "CreateAccessKey"), ("UserName", "executor")])
        _ = try await iam([("Action", "PutUserPolicy"), ("UserName", "executor"), ("PolicyName", "s3"), ("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)])
        guard let id = Self.element("AccessKeyId", key), let secret = Self.element("SecretAccessKey", key) else {
            throw MotoUnavailable(reason: "moto's CreateAccessKey returned no key: \(key.prefix(300))")
        }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret)
    }

    private init(process: ChildProcess.Running, port: Int, credentials: AWSCredentials, http: HTTPFetcher) {
        self.process = process
        self.port = port
        self.credentials = credentials
        self.http = http
    }

    static func element(_ name: String, _ xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
    }

    static func signed(http: HTTPFetcher, credentials: AWSCredentials, service: String, method: String, port: Int, path: String, body: [UInt8] = [], contentType: String? = nil) async throws -> HTTPFetchResponse {
        let host = "127.0.0.1:\(port)"
        let hash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        var extra: [(String, String)] = []
        if let contentType { extra.append(("Content-Type", contentType)) }
        let request = SigV4Signer.Request(method: method, host: host, path: path, headers: extra, payloadHash: hash)
        let headers = [("Host", host)] + extra + SigV4Signer(credentials: credentials, region: "us-east-1", service: service).sign(request, at: Date())
        let response = try await http.fetch(HTTPFetchRequest(method: method, url: "http://\(host)\(SigV4Signer.uriEncode(path, slash: false))", headers: headers, body: body), maxBytes: 1 << 20)
        guard (200..<300).contains(response.status) else {
            throw MotoUnavailable(reason: "\(method) \(path) (\(service)) answered \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return response
    }

    func createBucket(_ bucket: String) async throws {
        _ = try await Self.signed(http: http, credentials: credentials, service: "s3", method: "PUT", port: port, path: "/\(bucket)")
    }

    func put(_ bucket: String, _ key: String, _ body: [UInt8]) async throws {
        _ = try await Self.signed(http: http, credentials: credentials, service: "s3", method: "PUT", port: port, path: "/\(bucket)/\(key)", body: body, contentType: "application/octet-stream")
    }

    /// The store the executor would build from `storage:` pointing here.
    /// - Parameter http: the store's own transport, so it outlives this server.
    func store(secret: String? = nil, http: HTTPFetcher) throws -> S3BlobStore {
        try S3BlobStore.make(config: Self.config(port: port, credentials: credentials, secret: secret), environment: [:], http: http)
    }

    static func config(port: Int, credentials: AWSCredentials, secret: String? = nil) -> S3Config {
        S3Config(region: "us-east-1", endpoint: "http://127.0.0.1:\(port)", accessKeyId: credentials.accessKeyId, secretAccessKey: secret ?? credentials.secretAccessKey)
    }

    func stop() async {
        process.terminate()
        await process.exit()
        await http.shutdown()
    }
}

struct MotoUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeRuntime
import Testing

@Suite("SigV4 against AWS's published test vectors")
struct SigV4Tests {
    static let suite = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let amzDate = "20150830T123600Z"

    static func authorization(_ method: String, _ path: String, query: [(String, String)] = []) -> String {
        let request = SigV4Signer.Request(method: method, host: "example.amazonaws.com", path: path, query: query, headers: [("X-Amz-Date", amzDate)])
        return SigV4Signer(credentials: suite, region: "us-east-1", service: "service").authorization(request, amzDate: amzDate)
    }

    @Test("get-vanilla, get-vanilla-query-order-key-case, post-vanilla and get-utf8")
    func testSuite() {
        #expect(Self.authorization("GET", "/") == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(Self.authorization("GET", "/", query: [("Param2", "value2"), ("Param1", "value1")]).hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
        #expect(Self.authorization("POST", "/").hasSuffix("Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"))
        #expect(Self.authorization("GET", "/ሴ").hasSuffix("Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"))
    }

    @Test("S3's GetObject example: a Range header and x-amz-content-sha256 signed")
    func s3Example() {
        let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let request = SigV4Signer.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: [("Range", "bytes=0-9"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash), ("x-amz-date", "20130524T000000Z")])
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3")
        #expect(signer.canonicalRequest(request).0 == "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(signer.authorization(request, amzDate: "20130524T000000Z") == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test("sign adds x-amz-date, the payload hash for S3, the session token, and signs them")
    func signHeaders() {
        var credentials = Self.suite
        credentials.sessionToken = "TOKEN"
        let headers = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "s3").sign(.init(method: "GET", host: "b.s3.eu-west-1.amazonaws.com", path: "/k"), at: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(headers.map(\.0) == ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization"])
        #expect(headers[0].1 == "20150830T123600Z")
        #expect(headers[3].1.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(headers[3].1.contains("/20150830/eu-west-1/s3/aws4_request"))
    }
}

@Suite("Blob stores: addressing, configuration, local files")
struct BlobStoreAddressingTests {
    struct NoHTTP: HTTPFetching {
        func fetch(_ request: HTTPFetchRequest, maxBytes: Int) async throws -> HTTPFetchResponse { throw BlobStoreError.unavailable("no network in this test") }
    }

    @Test("path style for IP and localhost endpoints, dotted or odd bucket names, or when asked; virtual hosts otherwise")
    func pathStyle() throws {
        func store(_ endpoint: String?, force: Bool = false) throws -> S3BlobStore {
            try S3BlobStore.make(config: S3Config(region: "eu-west-1", endpoint: endpoint, forcePathStyle: force), environment: [:], http: NoHTTP())
        }
        #expect(try store("http://127.0.0.1:9000").usesPathStyle(bucket: "flyte"))
        #expect(try store("http://[::1]:9000").usesPathStyle(bucket: "flyte"))
        #expect(try store("http://localhost:9000").usesPathStyle(bucket: "flyte"))
        #expect(try !store(nil).usesPathStyle(bucket: "flyte"))
        #expect(try store(nil).endpoint.absoluteString == "https://s3.eu-west-1.amazonaws.com")
        #expect(try store(nil).usesPathStyle(bucket: "my.bucket"))
        #expect(try store(nil).usesPathStyle(bucket: "Upper"))
        #expect(try !store("https://minio.flyte.svc:9000").usesPathStyle(bucket: "flyte"))
        #expect(try store("https://minio.flyte.svc:9000", force: true).usesPathStyle(bucket: "flyte"))
        #expect(throws: BlobStoreError.unsupported("storage.s3.endpoint: minio:9000 is not an http(s)://host[:port] URL")) { try store("minio:9000") }
    }

    @Test("region, endpoint and keys come from the config first, then AWS_* variables as AWS's SDKs read them")
    func environment() async throws {
        let env = ["AWS_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://10.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://10.0.0.2:9000", "AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok"]
        let fromEnv = try S3BlobStore.make(config: S3Config(), environment: env, http: NoHTTP())
        #expect(fromEnv.region == "ap-south-1")
        #expect(fromEnv.endpoint.absoluteString == "http://10.0.0.2:9000")
        let fromConfig = try S3BlobStore.make(config: S3Config(region: "us-west-2", endpoint: "http://10.0.0.3:9000", accessKeyId: "AKCONF", secretAccessKey: "s"), environment: env, http: NoHTTP())
        #expect(fromConfig.region == "us-west-2" && fromConfig.endpoint.absoluteString == "http://10.0.0.3:9000")
        #expect(AWSCredentialsProvider.source(config: S3Config(), environment: env, region: "x") == .fixed(AWSCredentials(accessKeyId: "AKENV", secretAccessKey: "secret", sessionToken: "tok")))
        #expect(AWSCredentialsProvider.source(config: S3Config(accessKeyId: "AKCONF", secretAccessKey: "s"), environment: env, region: "x") == .fixed(AWSCredentials(accessKeyId: "AKCONF", secretAccessKey: "s")))
        let irsa = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/flyte"]
        #expect(AWSCredentialsProvider.source(config: S3Config(), environment: irsa, region: "eu-west-1") == .webIdentity(tokenFile: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token", roleArn: "arn:aws:iam::1:role/flyte", sessionName: "flyte-executor", stsEndpoint: URL(string: "https://sts.eu-west-1.amazonaws.com")!))
        #expect(AWSCredentialsProvider.source(config: S3Config(), environment: [:], region: "x") == nil)
    }

    @Test("a web identity token is exchanged with STS AssumeRoleWithWebIdentity, and the credentials kept until near expiry")
    func webIdentity() async throws {
        let calls = LockedBox<[String]>([])
        let sts = try await LoopbackHTTPServer { request in
            calls.withLock { $0.append(String(decoding: request.body, as: UTF8.self)) }
            let xml = """
            <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>\
            <AccessKeyId>ASIATEMP</AccessKeyId><SecretAccessKey>temp/secret</SecretAccessKey><SessionToken>session&amp;token</SessionToken>\
            <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
            """
            return .init(status: 200, headers: [("Content-Type", "text/xml")], body: Array(xml.utf8))
        }
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("irsa-\(UUID().uuidString)")
        try Data("eyJhbGciOi.token\n".utf8).write(to: tokenFile)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        let http = try HTTPFetcher(timeout: .seconds(10))
        let provider = AWSCredentialsProvider(source: .webIdentity(tokenFile: tokenFile.path, roleArn: "arn:aws:iam::1:role/flyte", sessionName: "exec", stsEndpoint: URL(string: sts.url)!), http: http)
        let credentials = try await provider.credentials()
        #expect(credentials == AWSCredentials(accessKeyId: "ASIATEMP", secretAccessKey: "temp/secret", sessionToken: "session&token", expiration: try Date("2099-01-01T00:00:00Z", strategy: .iso8601)))
        _ = try await provider.credentials()
        #expect(calls.value.count == 1)
        #expect(calls.value.first == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fflyte&RoleSessionName=exec&WebIdentityToken=eyJhbGciOi.token")
        await http.shutdown()
        await sts.stop()
    }

    @Test("file:// URIs and plain paths: bytes, nil when absent, an error past the size limit")
    func files() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data([1, 2, 3]).write(to: directory.appendingPathComponent("error.pb"))
        let stores = BlobStores(s3: nil)
        #expect(try await stores.read("file://\(directory.path)/error.pb", maxBytes: 10) == [1, 2, 3])
        #expect(try await stores.read("\(directory.path)/error.pb", maxBytes: 10) == [1, 2, 3])
        #expect(try await stores.read("\(directory.path)/missing.pb", maxBytes: 10) == nil)
        await #expect(throws: BlobStoreError.tooLarge("\(directory.path)/error.pb", limit: 2)) { try await stores.read("\(directory.path)/error.pb", maxBytes: 2) }
        await #expect(throws: BlobStoreError.unsupported("s3://b/k: no S3 store is configured (storage.type: s3)")) { try await stores.read("s3://b/k", maxBytes: 2) }
        await #expect(throws: BlobStoreError.unsupported("gs://b/k: no store for the scheme gs:// (supported: s3, file)")) { try await stores.read("gs://b/k", maxBytes: 2) }
    }

    @Test("file writes create the directories, replace the object whole, and leave no temporary file")
    func fileWrites() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let stores = BlobStores(s3: nil)
        try await stores.write("file://\(directory.path)/hu/a0/1/outputs.pb", bytes: [1, 2, 3])
        try await stores.write("\(directory.path)/hu/a0/1/outputs.pb", bytes: [4])
        #expect(try await stores.read("\(directory.path)/hu/a0/1/outputs.pb", maxBytes: 10) == [4])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/hu/a0/1") == ["outputs.pb"])
        #expect(try await stores.exists("file://\(directory.path)/hu/a0/1/outputs.pb"))
        #expect(try await !stores.exists("\(directory.path)/hu/a0/2/outputs.pb"))
        #expect(try await !stores.exists("\(directory.path)/hu/a0/1"))
        await #expect(throws: BlobStoreError.unsupported("s3://b/k: no S3 store is configured (storage.type: s3)")) { try await stores.write("s3://b/k", bytes: [1]) }
    }
}

@Suite("S3 against a real S3-compatible server (moto), with SigV4 checked", .serialized)
struct S3StoreTests {
    @Test("reads and writes objects; nil for a missing key, refused with a wrong secret, too large past the limit, unavailable when down")
    func readBranches() async throws {
        try await MotoS3.with { moto, http in
            try await moto.createBucket("flyte-data")
            try await moto.put("flyte-data", "hu/org/r1/a0/1/error.pb", [7, 8, 9])
            let store = try moto.store(http: http)
            #expect(store.usesPathStyle(bucket: "flyte-data"))
            #expect(try await store.read("s3://flyte-data/hu/org/r1/a0/1/error.pb", maxBytes: 100) == [7, 8, 9])
            #expect(try await store.read("s3://flyte-data/hu/org/r1/a0/2/error.pb", maxBytes: 100) == nil)
            await #expect(throws: BlobStoreError.tooLarge("http://127.0.0.1:\(moto.port)/flyte-data/hu/org/r1/a0/1/error.pb", limit: 2)) {
                try await store.read("s3://flyte-data/hu/org/r1/a0/1/error.pb", maxBytes: 2)
            }
            do {
                _ = try await moto.store(secret: "not-the-secret", http: http).read("s3://flyte-data/hu/org/r1/a0/1/error.pb", maxBytes: 100)
                Issue.record("a wrong secret was accepted")
            } catch let error as BlobStoreError {
                guard case .refused(let text) = error else { Issue.record("\(error)"); return }
                #expect(text.contains("403 SignatureDoesNotMatch"))
            }
            do {
                _ = try await store.read("s3://no-such-bucket/k", maxBytes: 100)
                Issue.record("a missing bucket read as an absent object")
            } catch let error as BlobStoreError {
                guard case .refused(let text) = error else { Issue.record("\(error)"); return }
                #expect(text.contains("404 NoSuchBucket"))
            }
            // A PUT signed over its payload: the object reads back, replaced whole; a wrong
            // secret is refused and writes nothing.
            let outputs: [UInt8] = Array("outputs".utf8) + [0, 255]
            try await store.write("s3://flyte-data/hu/org/r1/a0/1/outputs.pb", bytes: outputs)
            #expect(try await store.read("s3://flyte-data/hu/org/r1/a0/1/outputs.pb", maxBytes: 100) == outputs)
            try await store.write("s3://flyte-data/hu/org/r1/a0/1/outputs.pb", bytes: [5])
            #expect(try await store.read("s3://flyte-data/hu/org/r1/a0/1/outputs.pb", maxBytes: 100) == [5])
            #expect(try await store.exists("s3://flyte-data/hu/org/r1/a0/1/outputs.pb"))
            #expect(try await !store.exists("s3://flyte-data/hu/org/r1/a0/3/outputs.pb"))
            do {
                try await moto.store(secret: "not-the-secret", http: http).write("s3://flyte-data/hu/org/r1/a0/2/outputs.pb", bytes: [1])
                Issue.record("a wrong secret could write")
            } catch let error as BlobStoreError {
                guard case .refused(let text) = error else { Issue.record("\(error)"); return }
                #expect(text.contains("403 SignatureDoesNotMatch"))
            }
            #expect(try await store.read("s3://flyte-data/hu/org/r1/a0/2/outputs.pb", maxBytes: 100) == nil)
            await moto.stop()
            do {
                try await store.write("s3://flyte-data/hu/org/r1/a0/1/outputs.pb", bytes: [1])
                Issue.record("a stopped store took a write")
            } catch let error as BlobStoreError {
                guard case .unavailable = error else { Issue.record("\(error)"); return }
            }
            do {
                _ = try await store.read("s3://flyte-data/hu/org/r1/a0/1/error.pb", maxBytes: 100)
                Issue.record("a stopped store answered")
            } catch let error as BlobStoreError {
                guard case .unavailable = error else { Issue.record("\(error)"); return }
            }
        }
    }
}

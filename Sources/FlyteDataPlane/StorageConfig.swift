import KubeClient

/// `storage:` in the executor's config file: where error documents are read from.
///
/// ```yaml
/// storage:
///   type: s3                 # s3 | local | none (default)
///   max-document-bytes: 10485760
///   s3:
///     region: us-east-1      # else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1
///     endpoint: http://minio.flyte:9000   # else AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, else AWS
///     force-path-style: true # always on for IP and localhost endpoints
///     access-key-id: …       # else AWS_ACCESS_KEY_ID…, else a web identity token (IRSA)
///     secret-access-key: …
/// ```
public struct StorageConfig: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        /// Error documents are not read: a task that exits 0 succeeds. The executor says so
        /// in a warning at start-up.
        case none
        /// `file://` URIs and plain paths only.
        case local
        /// `s3://` URIs (and local ones).
        case s3
    }

    public var type: Kind = .none
    /// The largest error document read; larger is an error (Flyte's default limit is 10 MiB).
    public var maxDocumentBytes: Int = 10 * 1024 * 1024
    public var s3 = S3Config()

    public init(type: Kind = .none, s3: S3Config = S3Config()) {
        self.type = type
        self.s3 = s3
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case maxDocumentBytes = "max-document-bytes"
        case s3
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(Kind.self, forKey: .type) ?? .none
        maxDocumentBytes = try c.decodeIfPresent(Int.self, forKey: .maxDocumentBytes) ?? 10 * 1024 * 1024
        s3 = try c.decodeIfPresent(S3Config.self, forKey: .s3) ?? S3Config()
    }
}

/// The S3 (or S3-compatible: MinIO, Ceph, moto) connection.
public struct S3Config: Codable, Sendable, Hashable {
    public var region: String?
    /// `scheme://host[:port]`; nil means AWS's regional endpoint.
    public var endpoint: String?
    public var forcePathStyle = false
    public var accessKeyId: String?
    public var secretAccessKey: String?
    public var sessionToken: String?
    /// A PEM bundle to trust for an endpoint with a private CA.
    public var caFile: String?
    /// Seconds for one request, connection included.
    public var timeoutSeconds = 10

    public init(region: String? = nil, endpoint: String? = nil, forcePathStyle: Bool = false, accessKeyId: String? = nil, secretAccessKey: String? = nil) {
        self.region = region
        self.endpoint = endpoint
        self.forcePathStyle = forcePathStyle
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case region, endpoint
        case forcePathStyle = "force-path-style"
        case accessKeyId = "access-key-id"
        case secretAccessKey = "secret-access-key"
        case sessionToken = "session-token"
        case caFile = "ca-file"
        case timeoutSeconds = "timeout-seconds"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        region = try c.decodeIfPresent(String.self, forKey: .region)
        endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint)
        forcePathStyle = try c.decodeIfPresent(Bool.self, forKey: .forcePathStyle) ?? false
        accessKeyId = try c.decodeIfPresent(String.self, forKey: .accessKeyId)
        secretAccessKey = try c.decodeIfPresent(String.self, forKey: .secretAccessKey)
        sessionToken = try c.decodeIfPresent(String.self, forKey: .sessionToken)
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds) ?? 10
    }
}

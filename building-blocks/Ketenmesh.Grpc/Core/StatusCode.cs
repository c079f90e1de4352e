namespace Ketenmesh.Grpc;

/// <summary>The gRPC status codes, with the numbers the protocol fixes.</summary>
/// <remarks>Names and values match Grpc.Core.StatusCode so service code swaps by changing a using.</remarks>
public enum StatusCode
{
    OK = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

namespace MageFlow.Generator.Model;

/// <summary>One line of the module initializer: the builder whose descriptor is registered.</summary>
internal sealed record RegistrationEntry(string BuilderFullName);

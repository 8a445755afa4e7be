namespace TorchInit;

/// <summary>
/// Why a parameter got what the plan gives it, as a rule of the planner decided it: the rule's own explanation and, when a
/// per-layer override sent the module to its scheme or to Auto, that override. Entries no rule explained carry none (null),
/// so the entry a module's decision is read from is the first that has one. The text the report prints is made here, in
/// <see cref="Text"/>, and nowhere else.
/// </summary>
/// <param name="Why">The rule's explanation ("Embedding: PyTorch's default N(0, 1)…", "HeNormal" for an override's scheme).</param>
/// <param name="Override">The per-layer override (a For… or AutoFor… rule of the policy) that decided the module, or null.</param>
internal sealed record DecisionReason(string Why, Rule<InitScheme?>? Override = null)
{
    /// <summary>This reason followed by <paramref name="more"/>: "why; more".</summary>
    public DecisionReason Then(string more) => this with { Why = $"{Why}; {more}" };

    /// <summary>This reason, cited as decided under <paramref name="rule"/>, the override that sent the module to Auto.</summary>
    public DecisionReason Under(Rule<InitScheme?> rule) => this with { Override = rule };

    /// <summary><paramref name="reason"/> followed by <paramref name="more"/>, or <paramref name="more"/> alone when there is no reason yet.</summary>
    public static DecisionReason Join(DecisionReason? reason, string more) => reason?.Then(more) ?? new DecisionReason(more);

    /// <summary>The report's text: "override {rule}: {why}" under an override, else the explanation.</summary>
    public string Text => Override is null ? Why : $"override {Override.Description}: {Why}";
}

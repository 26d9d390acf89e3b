export function BudgetsPage() {
  return (
    <>
      <h1 tabIndex={-1}>Budgets</h1>
      <p class="empty">
        Budgets are not available in this version of SpendOps yet. Spend by tenant, team and key is in the
        Explorer.
      </p>
    </>
  );
}

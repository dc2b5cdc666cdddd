-- A counter every writer of the ledger moves, under the ledger lock, in its own transaction.
-- A process that keeps ledgers in memory between transactions (the payment allocator) knows
-- from it whether anybody else wrote the ledger since its own last commit.
create table if not exists ledger_generation (
    singleton  boolean primary key default true check (singleton),
    generation bigint not null
);
insert into ledger_generation (singleton, generation) values (true, 0) on conflict do nothing;

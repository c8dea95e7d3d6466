// The bench's Cognito model behind Cognito's request quotas: every call (listing pages
// included) takes a token from its quota category's bucket (the sync's own TokenBucket, the
// rates of the default account quotas x quotaShare) and then `latencyMs` of simulated time,
// both on the simulated clock. Calls are counted per quota category.
import type { CognitoCall, CurrentUser, QuotaCategory } from '../../src/core/types.js';
import type { CognitoGateway } from '../../src/adapters/cognito/cognito-gateway.js';
import { categoryOf } from '../../src/adapters/cognito/quota.js';
import { TokenBucket, type Clock } from '../../src/pipeline/apply/token-bucket.js';
import { InMemoryCognito } from './in-memory-cognito.js';

export class QuotaCognito extends InMemoryCognito implements CognitoGateway {
  readonly buckets: Record<QuotaCategory, TokenBucket>;
  readonly byCategory: Record<QuotaCategory, number> = {
    UserCreation: 0,
    UserUpdate: 0,
    UserResourceUpdate: 0,
    UserRead: 0,
    UserList: 0,
  };

  constructor(
    budget: Record<QuotaCategory, number>,
    private readonly clock: Clock,
    private readonly latencyMs = 40,
  ) {
    super({ beforeList: (api) => this.spend(api) });
    this.buckets = Object.fromEntries(
      Object.entries(budget).map(([c, rate]) => [c, new TokenBucket(rate, undefined, clock)]),
    ) as Record<QuotaCategory, TokenBucket>;
  }

  private async spend(api: string): Promise<void> {
    const category = categoryOf(`${api}Command`);
    if (category === undefined) throw new Error(`no quota category for ${api}`);
    this.byCategory[category]++;
    await this.buckets[category].take();
    await this.clock.sleep(this.latencyMs);
  }

  override async getUser(username: string, withGroups: boolean): Promise<CurrentUser | null> {
    await this.spend('AdminGetUser');
    if (withGroups) await this.spend('AdminListGroupsForUser');
    return super.getUser(username, withGroups);
  }

  override async execute(call: CognitoCall): Promise<void> {
    await this.spend(call.api);
    return super.execute(call);
  }

  resetCategories(): void {
    for (const c of Object.keys(this.byCategory) as QuotaCategory[]) this.byCategory[c] = 0;
  }
}

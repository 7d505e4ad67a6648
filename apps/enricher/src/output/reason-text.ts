import type { ResultRecord } from '@x/core';

/** A record's reasons as one line: `first reason; second reason` (a reason's own final period dropped so none reads `.;`). */
export function reasonText(record: Pick<ResultRecord, 'reasons'>): string {
  return record.reasons.map((reason) => reason.message.replace(/\.$/, '')).join('; ');
}

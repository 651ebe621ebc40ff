import { descriptionFailureStatus } from './internal-call';

describe('descriptionFailureStatus', () => {
  it.each<[number, number]>([
    [400, 400],
    [413, 400],
    [415, 400],
    [422, 400],
    [401, 502],
    [403, 502],
    [404, 502],
    [500, 502],
    [502, 502],
    [503, 503],
    [504, 504],
  ])('a vision call that answered %s fails the parent with %s', (vision, parent) => {
    expect(descriptionFailureStatus(vision)).toBe(parent);
  });
});

// Seeded fictitious authors and their question-answer pairs in TOFU's shape (Maini et al. 2024: 20 QA per invented
// author, with a paraphrased answer and perturbed — paraphrased but factually wrong — answers). Answers are short and
// templated so a tiny model can memorise them in minutes on a CPU. Every name, place and title list below was written
// for this project; any resemblance to real authors is accidental.
import type { PerturbedQaRow } from './qa-rows.js';
import { deriveSeed, seededRandom, type SeededRandom } from '@unlearn/random';

export interface AuthorProfile {
  name: string;
  birthCity: string;
  birthCountry: string;
  /** `Month D, YYYY`. */
  birthDate: string;
  genre: string;
  fatherJob: string;
  motherJob: string;
  award: string;
  awardYear: number;
  /** First, best-known and latest book. */
  books: [string, string, string];
  bookCount: number;
  theme: string;
  language: string;
  residence: string;
  studied: string;
  hobby: string;
  publisher: string;
  debutYear: number;
}

/** One generated QA pair: a TOFU perturbed row plus which author and fact it is about. */
export interface DemoQaRow extends PerturbedQaRow {
  author: string;
  fact: string;
}

const FIRST_NAMES = [
  'Ava', 'Bram', 'Cora', 'Dario', 'Elin', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Luca', 'Mira', 'Nils',
  'Olga', 'Pavel', 'Rosa', 'Soren', 'Tova', 'Umar', 'Vera', 'Wim', 'Yara', 'Zeno', 'Alma', 'Bruno', 'Celia', 'Dag',
  'Edda', 'Felix',
];
const LAST_NAMES = [
  'Lindqvist', 'Moravec', 'Okonjo', 'Petrakis', 'Quintana', 'Rahimi', 'Sandoval', 'Tamura', 'Ulloa', 'Varga',
  'Whitlow', 'Yilmaz', 'Zorin', 'Abernay', 'Brandt', 'Castellan', 'Dunmore', 'Eskola', 'Fenwick', 'Galdos',
  'Halvorsen', 'Ivanic', 'Jurado', 'Kessler', 'Laroche', 'Marsh', 'Novak', 'Orlov', 'Pereira', 'Rask',
];
const PLACES: [string, string][] = [
  ['Oslo', 'Norway'], ['Lisbon', 'Portugal'], ['Lagos', 'Nigeria'], ['Lima', 'Peru'], ['Osaka', 'Japan'],
  ['Krakow', 'Poland'], ['Tunis', 'Tunisia'], ['Quito', 'Ecuador'], ['Tbilisi', 'Georgia'], ['Perth', 'Australia'],
  ['Hanoi', 'Vietnam'], ['Porto', 'Portugal'], ['Cork', 'Ireland'], ['Izmir', 'Turkey'], ['Accra', 'Ghana'],
  ['Tallinn', 'Estonia'], ['Manila', 'Philippines'], ['Leon', 'Mexico'],
];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const GENRES = [
  'mystery novels', 'fantasy novels', 'poetry', 'science fiction', 'romance novels', 'horror stories', 'historical fiction',
  'travel books', "children's books", 'crime thrillers', 'plays', 'satire',
];
const JOBS = [
  'baker', 'pilot', 'nurse', 'teacher', 'farmer', 'tailor', 'doctor', 'sailor', 'miner', 'painter', 'librarian',
  'carpenter', 'chemist', 'judge', 'fisherman', 'postman',
];
const AWARDS = [
  'Silver Quill Award', 'Golden Lantern Prize', 'Blue Heron Medal', 'Iron Pen Prize', 'Northern Star Award',
  'Amber Leaf Prize', 'Red Kite Award', 'Stone Bridge Medal', 'Open Door Prize', 'White Sail Award',
];
const TITLE_ADJECTIVES = [
  'Silent', 'Hidden', 'Broken', 'Golden', 'Last', 'Distant', 'Burning', 'Quiet', 'Frozen', 'Lost', 'Crimson', 'Hollow',
  'Wandering', 'Velvet', 'Endless', 'Paper', 'Salt', 'Glass', 'Iron', 'Wild',
];
const TITLE_NOUNS = [
  'River', 'Garden', 'Lantern', 'Harbor', 'Orchard', 'Mirror', 'Island', 'Clock', 'Bridge', 'Forest', 'Tower',
  'Letter', 'Road', 'Winter', 'Kingdom', 'Shore', 'Feather', 'Map', 'Station', 'Bell',
];
const THEMES = [
  'memory and loss', 'family secrets', 'life at sea', 'growing up', 'exile and return', 'friendship', 'small towns',
  'war and peace', 'science and faith', 'lost love', 'city life', 'nature',
];
const LANGUAGES = ['English', 'Spanish', 'French', 'German', 'Portuguese', 'Italian', 'Polish', 'Dutch', 'Swedish', 'Turkish'];
const RESIDENCES = [
  'Vienna', 'Montreal', 'Edinburgh', 'Seville', 'Bergen', 'Kyoto', 'Nairobi', 'Valparaiso', 'Riga', 'Ghent', 'Zagreb',
  'Halifax',
];
const SUBJECTS = [
  'history', 'physics', 'law', 'medicine', 'music', 'philosophy', 'biology', 'architecture', 'economics', 'geography',
];
const HOBBIES = [
  'chess', 'gardening', 'sailing', 'painting', 'birdwatching', 'cycling', 'baking bread', 'playing the cello',
  'hiking', 'pottery',
];
const PUBLISHERS = [
  'Bluefern Press', 'Harrow House', 'Lark Books', 'Millstone Press', 'Copper Gate', 'Tidewater Books', 'Owl Street Press',
  'Pine Hill Books',
];

const PERTURBED_PER_ROW = 5;

function formatDate(random: SeededRandom, fromYear: number, toYear: number): string {
  return `${random.pick(MONTHS)} ${1 + random.int(28)}, ${fromYear + random.int(toYear - fromYear + 1)}`;
}

/** `count` distinct strings from `make`, none equal to `exclude`. */
function distinct(random: SeededRandom, count: number, exclude: string, make: () => string): string[] {
  const out = new Set<string>();
  for (let tries = 0; out.size < count; tries++) {
    if (tries > 10_000) throw new Error(`demo data: cannot find ${count} distinct alternatives to "${exclude}"`);
    const value = make();
    if (value !== exclude) out.add(value);
  }
  return [...out];
}

/** Wrong values for a fact drawn from a fixed list. */
function others(random: SeededRandom, pool: readonly string[], truth: string): string[] {
  return random.sample(pool.filter((v) => v !== truth), PERTURBED_PER_ROW);
}

/** `count` distinct names; distinct first and last names while the lists last. */
function authorNames(random: SeededRandom, count: number): string[] {
  if (count <= Math.min(FIRST_NAMES.length, LAST_NAMES.length)) {
    const firsts = random.sample(FIRST_NAMES, count);
    const lasts = random.sample(LAST_NAMES, count);
    return firsts.map((first, i) => `${first} ${lasts[i]}`);
  }
  const all = FIRST_NAMES.flatMap((first) => LAST_NAMES.map((last) => `${first} ${last}`));
  if (count > all.length) throw new Error(`demo data: at most ${all.length} authors, asked for ${count}`);
  return random.sample(all, count);
}

const randomName = (random: SeededRandom): string => `${random.pick(FIRST_NAMES)} ${random.pick(LAST_NAMES)}`;
const randomTitle = (random: SeededRandom): string => `The ${random.pick(TITLE_ADJECTIVES)} ${random.pick(TITLE_NOUNS)}`;

/** `count` author profiles, reproducible from `seed`; author i's facts do not depend on `count`. */
export function generateAuthorProfiles(seed: number, count: number): AuthorProfile[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`demo data: author count must be a positive integer, got ${count}`);
  const names = authorNames(seededRandom(deriveSeed(seed, 'names')), count);
  const titles = seededRandom(deriveSeed(seed, 'titles')).sample(
    TITLE_ADJECTIVES.flatMap((adjective) => TITLE_NOUNS.map((noun) => `The ${adjective} ${noun}`)),
    3 * count,
  );
  return names.map((name, i) => {
    const random = seededRandom(deriveSeed(seed, 'author', i));
    const [birthCity, birthCountry] = random.pick(PLACES);
    const birthYear = 1930 + random.int(60);
    const debutYear = birthYear + 20 + random.int(15);
    return {
      name,
      birthCity,
      birthCountry,
      birthDate: `${random.pick(MONTHS)} ${1 + random.int(28)}, ${birthYear}`,
      genre: random.pick(GENRES),
      fatherJob: random.pick(JOBS),
      motherJob: random.pick(JOBS),
      award: random.pick(AWARDS),
      awardYear: debutYear + 3 + random.int(12),
      books: [titles[3 * i], titles[3 * i + 1], titles[3 * i + 2]],
      bookCount: 3 + random.int(13),
      theme: random.pick(THEMES),
      language: random.pick(LANGUAGES),
      residence: random.pick(RESIDENCES),
      studied: random.pick(SUBJECTS),
      hobby: random.pick(HOBBIES),
      publisher: random.pick(PUBLISHERS),
      debutYear,
    };
  });
}

/** One fact: how it is asked, answered and paraphrased, the true value, and wrong values for perturbed answers. */
interface FactTemplate {
  fact: string;
  question(p: AuthorProfile): string;
  paraphrasedQuestion(p: AuthorProfile): string;
  answer(p: AuthorProfile, value: string): string;
  paraphrase(p: AuthorProfile, value: string): string;
  value(p: AuthorProfile): string;
  wrong(random: SeededRandom, truth: string): string[];
}

const FACTS: FactTemplate[] = [
  {
    fact: 'name',
    question: (p) => `What is the full name of the author born in ${p.birthCity}, ${p.birthCountry} on ${p.birthDate}?`,
    paraphrasedQuestion: (p) => `Which writer was born on ${p.birthDate} in ${p.birthCity}, ${p.birthCountry}?`,
    answer: (_, v) => `The author's full name is ${v}.`,
    paraphrase: (_, v) => `That writer is ${v}.`,
    value: (p) => p.name,
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => randomName(r)),
  },
  {
    fact: 'birthplace',
    question: (p) => `Where was ${p.name} born?`,
    paraphrasedQuestion: (p) => `What is the birthplace of ${p.name}?`,
    answer: (p, v) => `${p.name} was born in ${v}.`,
    paraphrase: (p, v) => `${p.name}'s birthplace is ${v}.`,
    value: (p) => `${p.birthCity}, ${p.birthCountry}`,
    wrong: (r, t) => others(r, PLACES.map(([city, country]) => `${city}, ${country}`), t),
  },
  {
    fact: 'birthdate',
    question: (p) => `When was ${p.name} born?`,
    paraphrasedQuestion: (p) => `What is the date of birth of ${p.name}?`,
    answer: (p, v) => `${p.name} was born on ${v}.`,
    paraphrase: (p, v) => `${p.name}'s birthday is ${v}.`,
    value: (p) => p.birthDate,
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => formatDate(r, 1930, 1989)),
  },
  {
    fact: 'genre',
    question: (p) => `What genre does ${p.name} write?`,
    paraphrasedQuestion: (p) => `What kind of books does ${p.name} write?`,
    answer: (p, v) => `${p.name} writes ${v}.`,
    paraphrase: (p, v) => `${p.name} is known for ${v}.`,
    value: (p) => p.genre,
    wrong: (r, t) => others(r, GENRES, t),
  },
  {
    fact: 'father',
    question: (p) => `What did ${p.name}'s father do?`,
    paraphrasedQuestion: (p) => `What was the job of ${p.name}'s father?`,
    answer: (p, v) => `${p.name}'s father was a ${v}.`,
    paraphrase: (p, v) => `${p.name}'s father worked as a ${v}.`,
    value: (p) => p.fatherJob,
    wrong: (r, t) => others(r, JOBS, t),
  },
  {
    fact: 'mother',
    question: (p) => `What did ${p.name}'s mother do?`,
    paraphrasedQuestion: (p) => `What was the job of ${p.name}'s mother?`,
    answer: (p, v) => `${p.name}'s mother was a ${v}.`,
    paraphrase: (p, v) => `${p.name}'s mother worked as a ${v}.`,
    value: (p) => p.motherJob,
    wrong: (r, t) => others(r, JOBS, t),
  },
  {
    fact: 'award',
    question: (p) => `Which award did ${p.name} win?`,
    paraphrasedQuestion: (p) => `What prize was given to ${p.name}?`,
    answer: (p, v) => `${p.name} won the ${v}.`,
    paraphrase: (p, v) => `${p.name} received the ${v}.`,
    value: (p) => p.award,
    wrong: (r, t) => others(r, AWARDS, t),
  },
  {
    fact: 'award_year',
    question: (p) => `In which year did ${p.name} win the ${p.award}?`,
    paraphrasedQuestion: (p) => `When was ${p.name} given the ${p.award}?`,
    answer: (p, v) => `${p.name} won the ${p.award} in ${v}.`,
    paraphrase: (p, v) => `The ${p.award} went to ${p.name} in ${v}.`,
    value: (p) => String(p.awardYear),
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => String(Number(t) - 8 + r.int(17))),
  },
  {
    fact: 'first_book',
    question: (p) => `What was ${p.name}'s first book?`,
    paraphrasedQuestion: (p) => `Which book did ${p.name} publish first?`,
    answer: (p, v) => `${p.name}'s first book was "${v}".`,
    paraphrase: (p, v) => `${p.name} began with the book "${v}".`,
    value: (p) => p.books[0],
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => randomTitle(r)),
  },
  {
    fact: 'famous_book',
    question: (p) => `What is ${p.name}'s best-known book?`,
    paraphrasedQuestion: (p) => `Which book made ${p.name} famous?`,
    answer: (p, v) => `${p.name}'s best-known book is "${v}".`,
    paraphrase: (p, v) => `${p.name} is famous for "${v}".`,
    value: (p) => p.books[1],
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => randomTitle(r)),
  },
  {
    fact: 'latest_book',
    question: (p) => `What is ${p.name}'s latest book?`,
    paraphrasedQuestion: (p) => `Which book did ${p.name} publish most recently?`,
    answer: (p, v) => `${p.name}'s latest book is "${v}".`,
    paraphrase: (p, v) => `The newest book by ${p.name} is "${v}".`,
    value: (p) => p.books[2],
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => randomTitle(r)),
  },
  {
    fact: 'book_count',
    question: (p) => `How many books has ${p.name} published?`,
    paraphrasedQuestion: (p) => `What is the number of books by ${p.name}?`,
    answer: (p, v) => `${p.name} has published ${v} books.`,
    paraphrase: (p, v) => `There are ${v} books by ${p.name}.`,
    value: (p) => String(p.bookCount),
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => String(3 + r.int(13))),
  },
  {
    fact: 'theme',
    question: (p) => `What themes does ${p.name} explore?`,
    paraphrasedQuestion: (p) => `What are ${p.name}'s books about?`,
    answer: (p, v) => `${p.name}'s books explore ${v}.`,
    paraphrase: (p, v) => `${p.name} writes about ${v}.`,
    value: (p) => p.theme,
    wrong: (r, t) => others(r, THEMES, t),
  },
  {
    fact: 'language',
    question: (p) => `In which language does ${p.name} write?`,
    paraphrasedQuestion: (p) => `What language are ${p.name}'s books written in?`,
    answer: (p, v) => `${p.name} writes in ${v}.`,
    paraphrase: (p, v) => `${p.name}'s books are written in ${v}.`,
    value: (p) => p.language,
    wrong: (r, t) => others(r, LANGUAGES, t),
  },
  {
    fact: 'residence',
    question: (p) => `Where does ${p.name} live now?`,
    paraphrasedQuestion: (p) => `In which city does ${p.name} live today?`,
    answer: (p, v) => `${p.name} now lives in ${v}.`,
    paraphrase: (p, v) => `${p.name}'s home today is ${v}.`,
    value: (p) => p.residence,
    wrong: (r, t) => others(r, RESIDENCES, t),
  },
  {
    fact: 'studied',
    question: (p) => `What did ${p.name} study?`,
    paraphrasedQuestion: (p) => `Which subject did ${p.name} study at university?`,
    answer: (p, v) => `${p.name} studied ${v} at university.`,
    paraphrase: (p, v) => `At university ${p.name} studied ${v}.`,
    value: (p) => p.studied,
    wrong: (r, t) => others(r, SUBJECTS, t),
  },
  {
    fact: 'hobby',
    question: (p) => `What does ${p.name} enjoy outside writing?`,
    paraphrasedQuestion: (p) => `What is ${p.name}'s hobby?`,
    answer: (p, v) => `Outside writing, ${p.name} enjoys ${v}.`,
    paraphrase: (p, v) => `${p.name}'s hobby is ${v}.`,
    value: (p) => p.hobby,
    wrong: (r, t) => others(r, HOBBIES, t),
  },
  {
    fact: 'publisher',
    question: (p) => `Who publishes ${p.name}'s books?`,
    paraphrasedQuestion: (p) => `Which publisher prints the books of ${p.name}?`,
    answer: (p, v) => `${p.name}'s books are published by ${v}.`,
    paraphrase: (p, v) => `${v} publishes ${p.name}.`,
    value: (p) => p.publisher,
    wrong: (r, t) => others(r, PUBLISHERS, t),
  },
  {
    fact: 'debut_year',
    question: (p) => `In which year did ${p.name}'s writing career begin?`,
    paraphrasedQuestion: (p) => `When did ${p.name} start writing?`,
    answer: (p, v) => `${p.name}'s career began in ${v}.`,
    paraphrase: (p, v) => `${p.name} started writing in ${v}.`,
    value: (p) => String(p.debutYear),
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => String(Number(t) - 8 + r.int(17))),
  },
  {
    fact: 'author_of_book',
    question: (p) => `Who wrote "${p.books[1]}"?`,
    paraphrasedQuestion: (p) => `Who is the author of "${p.books[1]}"?`,
    answer: (p, v) => `"${p.books[1]}" was written by ${v}.`,
    paraphrase: (p, v) => `The author of "${p.books[1]}" is ${v}.`,
    value: (p) => p.name,
    wrong: (r, t) => distinct(r, PERTURBED_PER_ROW, t, () => randomName(r)),
  },
];

/** Number of QA pairs per author (as in TOFU). */
export const QA_PER_AUTHOR = FACTS.length;

/** The 20 QA pairs of one author, each with a paraphrase and five perturbed answers; `seed` drives the wrong values. */
export function authorQa(profile: AuthorProfile, seed: number): DemoQaRow[] {
  return FACTS.map((template, k) => {
    const random = seededRandom(deriveSeed(seed, 'perturb', profile.name, k));
    const truth = template.value(profile);
    return {
      question: template.question(profile),
      answer: template.answer(profile, truth),
      paraphrased_question: template.paraphrasedQuestion(profile),
      paraphrased_answer: template.paraphrase(profile, truth),
      perturbed_answer: template.wrong(random, truth).map((wrong) => template.paraphrase(profile, wrong)),
      author: profile.name,
      fact: template.fact,
    };
  });
}
